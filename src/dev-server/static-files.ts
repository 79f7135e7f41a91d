import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';

const TYPES: Record<string, string> = { '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png' };

/** Serves one folder's files on loopback, so the example job's reference image comes from this machine. */
export async function serveFolder(folder: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const root = path.resolve(folder);
  // Whatever a request holds (a bad escape, a NUL, an odd request target) is a 4xx, never a crash.
  const server = http.createServer((req, res) => {
    serve(root, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`port ${port} is in use; the example's reference image is served there`) : err),
    );
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function serve(root: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const name = requestedPath(req.url ?? '/');
  const file = name === undefined ? undefined : path.resolve(root, `.${name}`);
  const info = file?.startsWith(root + path.sep) ? await stat(file).catch(() => undefined) : undefined;
  if (!file || !info?.isFile()) {
    res.writeHead(name === undefined ? 400 : 404).end();
    return;
  }
  res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'content-length': info.size });
  createReadStream(file)
    .once('error', () => res.destroy())
    .pipe(res);
}

/** The decoded path of a request target, or undefined when it is not one (`%`, `//`, a NUL byte). */
function requestedPath(target: string): string | undefined {
  try {
    const decoded = decodeURIComponent(new URL(target, 'http://x').pathname);
    return decoded.includes('\0') ? undefined : decoded;
  } catch {
    return undefined;
  }
}
