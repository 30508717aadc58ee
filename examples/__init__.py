"""Small programs that use Dockyard the way its users do."""
