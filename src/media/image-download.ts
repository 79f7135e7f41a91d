import { randomBytes } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import net, { type LookupFunction } from 'node:net';
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import { ClipflowError, FailureType } from '../shared/failures.js';
import { mediaBinaries } from './binaries.js';
import { createImageDecoder, ImageContentError, imageFormat, SNIFF_BYTES, type ImageDecoder, type ImageFormat } from './image-check.js';

export type { ImageFormat };

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
 * What arrives must be an image by its bytes and must decode (image-check.ts) before it is kept.
 */

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
  /** Decodes the downloaded file; defaults to ffprobe from the packaged binaries, within its limits. */
  decode?: ImageDecoder;
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
      const decode = options.decode ?? defaultDecoder();
      await decode(tempFile, format, signal).catch((err: unknown) => {
        throw err instanceof ImageContentError ? rejected(label, err.message) : err;
      });
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

/**
 * False for anything a server-side request must not reach: private, loopback, link-local, etc.
 * ipaddr.js names the special ranges; only plain unicast is public. IPv6 forms that carry an IPv4
 * address to which the packets end up going (mapped, translated, NAT64, 6to4, Teredo) are judged by
 * that address.
 */
export function isPublicAddress(address: string): boolean {
  const text = address.split('%')[0] ?? ''; // drop a zone id (fe80::1%eth0)
  // net.isIP first: ipaddr.js also parses loose IPv4 forms (0x7f.1) that no resolver returns.
  const family = net.isIP(text);
  if (family === 4) return ipaddr.IPv4.parse(text).range() === 'unicast';
  if (family !== 6) return false;
  // Hex groups only: ipaddr.js would read the IPv4-compatible ::a.b.c.d as ::ffff:a.b.c.d.
  const v6 = ipaddr.IPv6.parse(new URL(`http://[${text}]/`).hostname.slice(1, -1));
  const embedded = embeddedIPv4(v6);
  if (embedded) return embedded.length > 0 && embedded.every((v4) => v4.range() === 'unicast');
  // ::/96 minus what ipaddr.js names: the deprecated IPv4-compatible form (::a.b.c.d), never public.
  if (v6.parts.slice(0, 6).every((part) => part === 0)) return false;
  return v6.range() === 'unicast';
}

/** The IPv4 addresses an IPv6 address hands its packets to, for the forms that embed one ([] if unknown). */
function embeddedIPv4(ip: ipaddr.IPv6): ipaddr.IPv4[] | undefined {
  const p = ip.parts;
  const v4 = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  const last32 = () => v4(p[6] ?? 0, p[7] ?? 0);
  switch (ip.range()) {
    case 'ipv4Mapped': // ::ffff:a.b.c.d
    case 'rfc6145': // ::ffff:0:a.b.c.d, IPv4-translated
      return [last32()];
    case 'rfc6052': // 64:ff9b::a.b.c.d (NAT64); the local-use 64:ff9b:1::/48 is never public
      return p[2] === 0 ? [last32()] : [];
    case '6to4': // 2002:AABB:CCDD::/48 reaches the IPv4 host AA.BB.CC.DD
      return [v4(p[1] ?? 0, p[2] ?? 0)];
    case 'teredo': // 2001:0:server:flags:port:client, the client's IPv4 address inverted
      return [v4(p[2] ?? 0, p[3] ?? 0), v4(~(p[6] ?? 0) & 0xffff, ~(p[7] ?? 0) & 0xffff)];
    default:
      return undefined;
  }
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

let packagedDecoder: ImageDecoder | undefined;
function defaultDecoder(): ImageDecoder {
  packagedDecoder ??= createImageDecoder(mediaBinaries().ffprobe);
  return packagedDecoder;
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
        if (head.length === SNIFF_BYTES) format = await identify(head, label);
      }
      await handle.write(chunk);
    }
  } finally {
    await handle.close();
  }
  signal.throwIfAborted();
  return { format: format ?? (await identify(head, label)), sizeBytes };
}

async function identify(head: Buffer, label: string): Promise<ImageFormat> {
  try {
    return await imageFormat(head);
  } catch (err) {
    throw err instanceof ImageContentError ? rejected(label, err.message) : err;
  }
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
