/**
 * Trained encoders the app ships: `public/models/<file>`, copied by Vite to
 * `<BASE_URL>models/`, fetched from the page's own origin (as the built-in
 * data sets are) and decoded by src/core/weights-file. A decoded file is
 * kept, so ticking the box again does not fetch it again; a failed fetch is
 * forgotten.
 */
import { decodeWeights, type WeightsFile } from '../core/weights-file';
import { BUILTIN_MODELS, type BuiltinModelName } from './protocol';

/** A model file's URL: same origin as the page, under Vite's base path. */
export function modelUrl(
  file: string,
  base: string = import.meta.env.BASE_URL,
  origin: string = globalThis.location.origin,
): URL {
  return new URL(`models/${file}`, new URL(base, origin));
}

const loaded = new Map<BuiltinModelName, Promise<WeightsFile>>();

async function fetchModel(name: BuiltinModelName): Promise<WeightsFile> {
  const url = modelUrl(BUILTIN_MODELS[name]);
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(
      `Could not load the trained encoder from ${url.href}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
  if (!res.ok)
    throw new Error(`Could not load the trained encoder from ${url.href}: HTTP ${res.status} ${res.statusText}`.trim());
  return decodeWeights(new Uint8Array(await res.arrayBuffer()));
}

/** The built-in model `name`, fetched and decoded once. */
export function builtinWeights(name: BuiltinModelName): Promise<WeightsFile> {
  let p = loaded.get(name);
  if (!p) {
    const q = fetchModel(name);
    p = q;
    loaded.set(name, q);
    q.catch(() => {
      if (loaded.get(name) === q) loaded.delete(name);
    });
  }
  return p;
}
