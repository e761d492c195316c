// The few Node APIs the tests use (vitest runs on Node; @types/node is not
// a dependency).
declare module 'node:fs' {
  export function existsSync(path: string): boolean;
  export function readFileSync(path: string, encoding: 'utf8'): string;
}
declare const process: { cwd(): string; env: Record<string, string | undefined> };
