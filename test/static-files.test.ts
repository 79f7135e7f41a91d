import { mkdtemp, readFile } from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/dev-server/ports.js';
import { serveFolder } from '../src/dev-server/static-files.js';
import { downloadImage, type ImageSettings } from '../src/media/image-download.js';

const ASSETS = 'examples/assets';
let assets: Awaited<ReturnType<typeof serveFolder>>;
let port: number;

beforeAll(async () => {
  port = await freePort();
  assets = await serveFolder(ASSETS, port);
});
afterAll(async () => {
  await assets?.close();
});

/** Sends `request` byte for byte and returns the response's status line ('' when the server closed without one). */
function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let response = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      response += chunk;
    });
    // A server that never answers fails the test; one that resets the connection has answered ''.
    socket.setTimeout(5_000, () => {
      reject(new Error(`no answer to ${JSON.stringify(request.split('\r\n')[0])}`));
      socket.destroy();
    });
    socket.once('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? undefined : reject(err)));
    socket.once('close', () => resolve(response.split('\r\n')[0] ?? ''));
  });
}

const get = (target: string) => raw(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);

describe("npm start's static file server", () => {
  it('serves the example image', async () => {
    expect(await get('/scene-reference.jpg')).toBe('HTTP/1.1 200 OK');
  });

  it.each([
    ['a lone percent sign', '/%'],
    ['a bad escape', '/scene%zz.jpg'],
    ['a truncated UTF-8 escape', '/%E2%82'],
    ['an empty authority', '//'],
    ['a NUL byte', '/scene-reference.jpg%00.png'],
  ])('answers 400 to %s (%s) and goes on serving', async (_what, target) => {
    expect(await get(target)).toBe('HTTP/1.1 400 Bad Request');
    expect(await get('/scene-reference.jpg')).toBe('HTTP/1.1 200 OK');
  });

  it.each([
    ['an encoded climb out of the folder', '/..%2f..%2fpackage.json'],
    ['a climb out of the folder', '/../../package.json'],
    ['the folder itself', '/'],
    ['an absolute-form target', 'http://elsewhere/etc/passwd'],
    ['an asterisk', '*'],
    ['a file that is not there', '/nothing.png'],
  ])('answers 404 to %s (%s) and goes on serving', async (_what, target) => {
    expect(await get(target)).toBe('HTTP/1.1 404 Not Found');
    expect(await get('/scene-reference.jpg')).toBe('HTTP/1.1 200 OK');
  });

  it('survives a request that is not HTTP at all', async () => {
    expect(await raw('\x00\x01 not http at all\r\n\r\n')).toMatch(/^(HTTP\/1\.1 400|)/);
    expect(await raw(`GET /${'a'.repeat(100_000)} HTTP/1.1\r\n\r\n`)).toMatch(/^(HTTP\/1\.1 (404|414|431)|)/);
    expect(await get('/scene-reference.jpg')).toBe('HTTP/1.1 200 OK');
  });
});

describe('private addresses allowed for the demo image alone', () => {
  let other: http.Server;
  let otherUrl: string;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'clipflow-static-'));
    const jpeg = await readFile(path.join(ASSETS, 'scene-reference.jpg'));
    // Another loopback service, as a job's image URL could name it.
    other = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg' }).end(jpeg));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => other?.close(() => resolve()));
  });

  // What npm start gives its worker: no private hosts, except the origin its own image comes from.
  const demo = (): ImageSettings => ({
    allowPrivateHosts: false,
    privateOrigins: [assets.url],
    maxBytes: 10_000_000,
    connectTimeoutMs: 2_000,
    totalTimeoutMs: 10_000,
  });

  it("downloads the demo's own image from loopback", async () => {
    const image = await downloadImage(`${assets.url}/scene-reference.jpg`, path.join(dir, 'demo'), demo());
    expect(image).toMatchObject({ format: 'jpeg', sizeBytes: 103_624 });
  });

  it('refuses any other private address, another port of loopback included', async () => {
    await expect(downloadImage(`${otherUrl}/x.jpg`, path.join(dir, 'other'), demo())).rejects.toThrow(
      /host 127\.0\.0\.1 is not a public address/,
    );
    await expect(downloadImage(`http://localhost:${port}/scene-reference.jpg`, path.join(dir, 'by-name'), demo())).rejects.toThrow(
      /resolves to .*, which is not a public address/,
    );
    await expect(downloadImage('http://169.254.169.254/latest/meta-data', path.join(dir, 'metadata'), demo())).rejects.toThrow(
      /not a public address/,
    );
  });
});
