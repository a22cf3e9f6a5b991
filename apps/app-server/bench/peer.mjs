// The benches' JSON-RPC client of an app-server (Skein's or the real codex) over stdio:
// one child process in its home, requests answered by id, every wait bounded.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A JSON-RPC peer over stdio (codex or skein), with bounded waits. */
export class StdioPeer {
  /** `timeoutMs`: how long a request may take unless the call says otherwise. */
  constructor(label, command, args, home, { timeoutMs = 300_000 } = {}) {
    this.timeoutMs = timeoutMs;
    this.label = label;
    this.home = home;
    this.child = spawn(command, args, {
      cwd: home,
      env: { ...process.env, CODEX_HOME: home, RUST_LOG: 'error', NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.waiters = new Map();
    this.nextId = 1;
    this.stderr = '';
    this.child.stderr.on('data', (chunk) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      let message;
      try {
        message = JSON.parse(line);
      } catch {
        return;
      }
      const waiter = message.id === undefined ? undefined : this.waiters.get(message.id);
      if (waiter) {
        this.waiters.delete(message.id);
        waiter(message);
      }
    });
  }

  request(method, params, timeoutMs = this.timeoutMs) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(new Error(`${this.label} ${method} timed out; stderr: ${this.stderr.slice(-1000)}`));
      }, timeoutMs);
      this.waiters.set(id, (message) => {
        clearTimeout(timer);
        if (message.error) reject(new Error(`${this.label} ${method}: ${message.error.message}`));
        else resolve(message.result);
      });
      this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  }

  notify(method, params) {
    this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method, params })}\n`);
  }

  async close() {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
