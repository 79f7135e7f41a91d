import { randomBytes } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import net, { type LookupFunction } from 'node:net';
import path from 'node:path';
import { ClipflowError, FailureType } from '../shared/failures.js';

/** Limits on downloading a clip's reference image. */
export interface ImageSettings {
  allowPrivateHosts: boolean;
  /** Origins (`http://127.0.0.1:8790`) allowed to resolve to private addresses although others may not. */
  privateOrigins?: readonly string[];
  maxBytes: number;
  connectTimeoutMs: number;
  totalTimeoutMs: number;
}

/**
 * Downloads a scene reference image from a URL a user supplied, which makes it an SSRF vector:
 * only http(s), no credentials in the URL, every resolved address must be public (unless
 * settings.allowPrivateHosts), the connection goes to the address that was vetted (no second DNS
 * lookup to rebind), every redirect hop is vetted again, and size, time and content are capped.
 */

export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp';

export interface DownloadedImage {
  path: string;
  sizeBytes: number;
  format: ImageFormat;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export interface DownloadOptions {
  /** Resolves a hostname to every address it has; defaults to the system resolver. */
  lookup?: (hostname: string) => Promise<ResolvedAddress[]>;
  signal?: AbortSignal;
}

const MAX_REDIRECTS = 3;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const EXTENSIONS: Record<ImageFormat, string> = { png: 'png', jpeg: 'jpg', gif: 'gif', webp: 'webp', bmp: 'bmp' };

export async function downloadImage(
  url: string,
  destinationWithoutExt: string,
  settings: ImageSettings,
  options: DownloadOptions = {},
): Promise<DownloadedImage> {
  const original = parseUrl(url);
  const lookup = options.lookup ?? systemLookup;
  let label = redact(original);

  // One signal for everything that can end the download early: the total timeout and the caller.
  const controller = new AbortController();
  const { signal } = controller;
  const timer = setTimeout(
    () => controller.abort(rejected(label, `timed out after ${settings.totalTimeoutMs} ms`)),
    settings.totalTimeoutMs,
  );
  const cancel = () => controller.abort(rejected(label, 'download cancelled'));
  if (options.signal?.aborted) cancel();
  else options.signal?.addEventListener('abort', cancel, { once: true });

  let tempFile: string | undefined;
  try {
    let target = original;
    for (let redirects = 0; ; redirects++) {
      label = target === original ? redact(original) : `${redact(original)} (redirected to ${redact(target)})`;
      const addresses = await untilAborted(resolveAndVet(target, settings, lookup, label), signal);
      const response = await get(target, addresses, settings.connectTimeoutMs, label, signal);
      const status = response.statusCode ?? 0;
      const location = response.headers.location;

      if (REDIRECT_STATUSES.has(status) && location) {
        response.destroy();
        if (redirects >= MAX_REDIRECTS) throw rejected(label, `too many redirects (more than ${MAX_REDIRECTS})`);
        target = parseUrl(location, target, label);
        continue;
      }
      if (status < 200 || status > 299) {
        response.destroy();
        throw rejected(label, `server answered HTTP ${status}`);
      }
      const declared = response.headers['content-length'];
      if (declared !== undefined && Number(declared) > settings.maxBytes) {
        response.destroy();
        throw rejected(label, `Content-Length ${declared} bytes exceeds the limit of ${settings.maxBytes} bytes`);
      }

      await mkdir(path.dirname(destinationWithoutExt), { recursive: true });
      tempFile = `${destinationWithoutExt}.${randomBytes(6).toString('hex')}.part`;
      const { format, sizeBytes } = await save(response, tempFile, settings.maxBytes, label, signal);
      const finalPath = `${destinationWithoutExt}.${EXTENSIONS[format]}`;
      await rename(tempFile, finalPath);
      return { path: finalPath, sizeBytes, format };
    }
  } catch (err) {
    const failure = signal.aborted
      ? (signal.reason as Error)
      : err instanceof ClipflowError
        ? err
        : rejected(label, `download failed: ${(err as Error).message}`);
    if (tempFile) await rm(tempFile, { force: true });
    throw failure;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', cancel);
  }
}

/** False for anything a server-side request must not reach: private, loopback, link-local, etc. */
export function isPublicAddress(address: string): boolean {
  if (net.isIPv4(address)) {
    const n = ipv4ToInt(address);
    return !BLOCKED_IPV4.some(([base, bits]) => n >>> (32 - bits) === base >>> (32 - bits));
  }
  const g = parseIPv6(address);
  if (!g) return false;
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const embeddedIPv4 = `${g6 >> 8}.${g6 & 0xff}.${g7 >> 8}.${g7 & 0xff}`;
  // ::/80 holds the unspecified address, loopback, IPv4-compatible and IPv4-mapped (::ffff:a.b.c.d).
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0) {
    return g5 === 0xffff && isPublicAddress(embeddedIPv4);
  }
  // NAT64 (64:ff9b::/96) reaches the IPv4 address it embeds.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return isPublicAddress(embeddedIPv4);
  if ((g0 & 0xfe00) === 0xfc00) return false; // fc00::/7 unique local
  if ((g0 & 0xffc0) === 0xfe80) return false; // fe80::/10 link-local
  if ((g0 & 0xffc0) === 0xfec0) return false; // fec0::/10 site-local (deprecated)
  if ((g0 & 0xff00) === 0xff00) return false; // ff00::/8 multicast
  if (g0 === 0x2001 && g1 === 0x0db8) return false; // 2001:db8::/32 documentation
  return true;
}

const BLOCKED_IPV4: [number, number][] = (
  [
    ['0.0.0.0', 8], // "this network", includes the unspecified address
    ['10.0.0.0', 8], // private
    ['100.64.0.0', 10], // carrier-grade NAT
    ['127.0.0.0', 8], // loopback
    ['169.254.0.0', 16], // link-local (cloud metadata lives here)
    ['172.16.0.0', 12], // private
    ['192.0.0.0', 24], // IETF protocol assignments
    ['192.0.2.0', 24], // documentation
    ['192.168.0.0', 16], // private
    ['198.18.0.0', 15], // benchmarking
    ['198.51.100.0', 24], // documentation
    ['203.0.113.0', 24], // documentation
    ['224.0.0.0', 4], // multicast
    ['240.0.0.0', 4], // reserved, includes broadcast
  ] as const
).map(([base, bits]) => [ipv4ToInt(base), bits]);

function ipv4ToInt(address: string): number {
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

/** The eight 16-bit groups of an IPv6 address, or undefined if it is not one. */
function parseIPv6(address: string): number[] | undefined {
  let text = address.split('%')[0] ?? ''; // drop a zone id (fe80::1%eth0)
  if (!net.isIPv6(text)) return undefined;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros: string[] = Array(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].map((group) => parseInt(group, 16));
}

async function systemLookup(hostname: string): Promise<ResolvedAddress[]> {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
}

function rejected(label: string, problem: string): ClipflowError {
  return new ClipflowError(FailureType.ImageRejected, `image ${label}: ${problem}`);
}

/** The URL without credentials, query or fragment: safe to put in messages and logs. */
function redact(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  copy.search = '';
  copy.hash = '';
  return copy.href.length > 200 ? `${copy.href.slice(0, 200)}...` : copy.href;
}

function parseUrl(text: string, base?: URL, label?: string): URL {
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    throw rejected(label ?? 'URL', base ? 'redirected to an invalid URL' : 'is not a valid URL');
  }
  const where = label ? `${label}: redirect to ${redact(url)}` : redact(url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw rejected(where, `scheme ${url.protocol} is not allowed (only http: and https:)`);
  }
  if (url.username || url.password) throw rejected(where, 'URLs with credentials (user:password@) are not allowed');
  return url;
}

async function resolveAndVet(
  url: URL,
  settings: ImageSettings,
  lookup: (hostname: string) => Promise<ResolvedAddress[]>,
  label: string,
): Promise<ResolvedAddress[]> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const literal = net.isIP(host);
  let addresses: ResolvedAddress[];
  if (literal) {
    addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await lookup(host);
    } catch (err) {
      throw rejected(label, `could not resolve host ${host}: ${(err as Error).message}`);
    }
    if (addresses.length === 0) throw rejected(label, `host ${host} resolved to no address`);
  }
  if (!settings.allowPrivateHosts && !settings.privateOrigins?.includes(url.origin)) {
    const bad = addresses.find((a) => !isPublicAddress(a.address));
    if (bad) {
      throw rejected(
        label,
        literal ? `host ${host} is not a public address` : `host ${host} resolves to ${bad.address}, which is not a public address`,
      );
    }
  }
  return addresses;
}

/** A lookup for http.request that answers with the vetted addresses, so DNS is not asked twice. */
function pinnedLookup(addresses: ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) return callback(null, addresses);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  };
}

/** Sends the GET and resolves with the response once its headers arrive. */
function get(
  url: URL,
  addresses: ResolvedAddress[],
  connectTimeoutMs: number,
  label: string,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted();
    const client = url.protocol === 'https:' ? https : http;
    const req = client.request(url, {
      agent: false, // a fresh connection each time: no pooled socket to an address vetted for another host
      lookup: pinnedLookup(addresses),
      headers: { accept: 'image/*' },
    });
    let response: IncomingMessage | undefined;
    const onAbort = () => (response ?? req).destroy(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    req.once('close', () => signal.removeEventListener('abort', onAbort));

    req.once('socket', (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => req.destroy(rejected(label, `could not connect within ${connectTimeoutMs} ms`)), connectTimeoutMs);
      socket.once('connect', () => clearTimeout(timer));
      socket.once('close', () => clearTimeout(timer));
    });
    req.once('response', (res) => {
      response = res;
      res.on('error', () => {}); // errors reach the reader through its iterator; this only prevents a crash
      resolve(res);
    });
    req.on('error', (err) => reject(err instanceof ClipflowError ? err : rejected(label, `request failed: ${err.message}`)));
    req.end();
  });
}

/** Streams the body to `file`, stopping as soon as it exceeds maxBytes or turns out not to be an image. */
async function save(
  response: IncomingMessage,
  file: string,
  maxBytes: number,
  label: string,
  signal: AbortSignal,
): Promise<{ format: ImageFormat; sizeBytes: number }> {
  const handle = await open(file, 'wx');
  let sizeBytes = 0;
  let head = Buffer.alloc(0);
  let format: ImageFormat | undefined;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      sizeBytes += chunk.length;
      if (sizeBytes > maxBytes) throw rejected(label, `body exceeds the limit of ${maxBytes} bytes`);
      if (format === undefined) {
        head = Buffer.concat([head, chunk]).subarray(0, SNIFF_BYTES);
        if (head.length === SNIFF_BYTES) format = identify(head, label);
      }
      await handle.write(chunk);
    }
  } finally {
    await handle.close();
  }
  signal.throwIfAborted();
  return { format: format ?? identify(head, label), sizeBytes };
}

/** Enough bytes to recognise every supported format (BMP needs its DIB header size at 14..17). */
const SNIFF_BYTES = 18;
const BMP_DIB_HEADER_SIZES = new Set([12, 40, 52, 56, 64, 108, 124]);

function identify(head: Buffer, label: string): ImageFormat {
  const ascii = (start: number, end: number) => head.subarray(start, end).toString('latin1');
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return 'gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(0, 2) === 'BM' && head.length >= 18 && BMP_DIB_HEADER_SIZES.has(head.readUInt32LE(14))) return 'bmp';
  const what = head.length === 0 ? 'the body is empty' : 'its first bytes match none of PNG, JPEG, GIF, WEBP, BMP';
  throw rejected(label, `content is not an image: ${what}`);
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
