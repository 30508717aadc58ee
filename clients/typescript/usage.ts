// What a TypeScript user writes against the generated client; `tsc --strict` must accept it,
// so the types the spec produces are usable (tests/integration/test_typescript_client.py).
import { createClient } from "./generated/client";
import {
  containerLogs,
  createContainer,
  getContainer,
  runContainer,
} from "./generated/sdk.gen";
import type { Container, LogLine, Problem, RunResult } from "./generated/types.gen";

export async function example(baseUrl: string, key: string): Promise<string[]> {
  const client = createClient({ baseUrl, auth: key });
  const created = await createContainer({
    client,
    body: { image: "busybox:local", command: ["sleep", "30"], pull: "never" },
    query: { start: true },
  });
  if (created.error) {
    const problem: Problem = created.error;
    return [problem.type, problem.detail, ...(problem.errors ?? []).map((e) => e.msg)];
  }
  const container: Container | undefined = created.data;
  const seen = await getContainer({ client, path: { ref: container?.id ?? "web" } });
  const running: boolean | undefined = seen.data?.state.running;
  const logs = await containerLogs({ client, path: { ref: "web" }, query: { tail: "10" } });
  const lines: LogLine[] = logs.data ?? [];
  const job = await runContainer({ client, body: { image: "busybox:local", command: ["true"] } });
  const result: RunResult | undefined = job.data;
  return [String(running), ...lines.map((l) => `${l.stream}: ${l.line}`), String(result?.exit_code)];
}
