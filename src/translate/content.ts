// Images and documents between Anthropic content blocks and OpenAI content parts, with the checks
// Anthropic applies (media type, 5 MB per image) made before the request leaves the gateway.
import { TranslationError } from './errors';
import { expectObj, expectString, isObj, type Obj } from './shape';

export const IMAGE_MEDIA_TYPES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);
/** Anthropic's per-image limit, applied to the decoded size of a base64 payload. */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

/** Decoded size of a base64 payload, from its length alone. */
export function base64DecodedSize(data: string): number {
  let len = data.length;
  while (len > 0 && (data.charCodeAt(len - 1) === 0x3d /* = */ || data.charCodeAt(len - 1) <= 0x20)) len--;
  return Math.floor((len * 3) / 4);
}

function checkMediaType(mediaType: string, param: string): string {
  const mt = mediaType === 'image/jpg' ? 'image/jpeg' : mediaType;
  if (!IMAGE_MEDIA_TYPES.has(mt)) {
    throw new TranslationError(
      `${param}: image media type '${mediaType}' is not supported; use image/jpeg, image/png, image/gif or image/webp`,
      param,
    );
  }
  return mt;
}

function checkImageData(data: string, param: string): void {
  if (data.length === 0) throw new TranslationError(`${param}: image data is empty`, param);
  const size = base64DecodedSize(data);
  if (size > MAX_IMAGE_BYTES) {
    throw new TranslationError(`${param}: image is ${(size / 1048576).toFixed(1)} MB; the limit is 5 MB per image`, param, 400);
  }
}

function checkHttpUrl(url: string, param: string): void {
  if (!url.startsWith('https://') && !url.startsWith('http://')) {
    throw new TranslationError(`${param}: image URL must be http(s) or a base64 data: URL`, param);
  }
}

/** Anthropic image block → OpenAI `image_url` part (base64 → data URL; url → url). */
export function imageBlockToOpenAI(block: Obj, param: string): Obj {
  const source = expectObj(block.source, `${param}.source`);
  if (source.type === 'base64') {
    const mt = checkMediaType(expectString(source.media_type, `${param}.source.media_type`), `${param}.source.media_type`);
    const data = expectString(source.data, `${param}.source.data`);
    checkImageData(data, `${param}.source.data`);
    return { type: 'image_url', image_url: { url: `data:${mt};base64,${data}` } };
  }
  if (source.type === 'url') {
    const url = expectString(source.url, `${param}.source.url`);
    checkHttpUrl(url, `${param}.source.url`);
    return { type: 'image_url', image_url: { url } };
  }
  throw new TranslationError(
    `${param}.source: image source type '${String(source.type)}' cannot be sent to an OpenAI-compatible model (use base64 or url)`,
    `${param}.source.type`,
  );
}

interface DataUrl {
  mediaType: string;
  data: string;
}

/** `data:<type>;base64,<payload>` → its parts; other data URLs are refused. */
export function parseDataUrl(url: string, param: string): DataUrl {
  const comma = url.indexOf(',');
  const header = comma < 0 ? '' : url.slice(5, comma);
  if (comma < 0 || !header.endsWith(';base64')) {
    throw new TranslationError(`${param}: data URLs must be base64 (data:<media type>;base64,<data>)`, param);
  }
  return { mediaType: header.slice(0, header.length - 7).toLowerCase(), data: url.slice(comma + 1) };
}

/** OpenAI `image_url` part → Anthropic image block (data URL → base64 source; http(s) → url source). */
export function imagePartToAnthropic(part: Obj, param: string): Obj {
  const iu = part.image_url;
  const url = typeof iu === 'string' ? iu : expectString(isObj(iu) ? iu.url : undefined, `${param}.image_url.url`);
  if (url.startsWith('data:')) {
    const d = parseDataUrl(url, `${param}.image_url.url`);
    const mt = checkMediaType(d.mediaType, `${param}.image_url.url`);
    checkImageData(d.data, `${param}.image_url.url`);
    return { type: 'image', source: { type: 'base64', media_type: mt, data: d.data } };
  }
  checkHttpUrl(url, `${param}.image_url.url`);
  return { type: 'image', source: { type: 'url', url } };
}

/**
 * Anthropic document block → OpenAI parts: a base64 PDF → a `file` part (file_data data URL);
 * plain-text and content sources → text parts. URL and file sources cannot be expressed.
 */
export function documentBlockToOpenAI(block: Obj, param: string, out: Obj[]): void {
  const source = expectObj(block.source, `${param}.source`);
  if (source.type === 'base64') {
    const mt = expectString(source.media_type, `${param}.source.media_type`);
    if (mt !== 'application/pdf') throw new TranslationError(`${param}.source.media_type: '${mt}' is not a supported document type`, `${param}.source.media_type`);
    const data = expectString(source.data, `${param}.source.data`);
    const filename = typeof block.title === 'string' && block.title ? block.title : 'document.pdf';
    out.push({ type: 'file', file: { filename, file_data: `data:application/pdf;base64,${data}` } });
    return;
  }
  if (source.type === 'text') {
    out.push({ type: 'text', text: expectString(source.data, `${param}.source.data`) });
    return;
  }
  if (source.type === 'content') {
    const parts = Array.isArray(source.content) ? source.content : [];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (isObj(p) && p.type === 'text' && typeof p.text === 'string') out.push({ type: 'text', text: p.text });
      else if (isObj(p) && p.type === 'image') out.push(imageBlockToOpenAI(p, `${param}.source.content[${i}]`));
    }
    return;
  }
  throw new TranslationError(
    `${param}.source: document source type '${String(source.type)}' cannot be sent to an OpenAI-compatible model`,
    `${param}.source.type`,
  );
}

/** OpenAI `file` part → Anthropic document block (base64 PDFs only). */
export function filePartToAnthropic(part: Obj, param: string): Obj {
  const file = expectObj(part.file, `${param}.file`);
  if (typeof file.file_data !== 'string') {
    throw new TranslationError(`${param}.file: only inline file_data can be sent to an Anthropic model (file_id is not supported)`, `${param}.file`);
  }
  const d = parseDataUrl(file.file_data, `${param}.file.file_data`);
  if (d.mediaType !== 'application/pdf') {
    throw new TranslationError(`${param}.file.file_data: '${d.mediaType}' is not a supported document type (application/pdf)`, `${param}.file.file_data`);
  }
  const block: Obj = { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: d.data } };
  if (typeof file.filename === 'string' && file.filename) block.title = file.filename;
  return block;
}
