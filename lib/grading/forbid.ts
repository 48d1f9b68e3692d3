/**
 * Watching calls of library functions that an exercise forbids. The grader preloads preload.ts
 * into a submission's kernel, before any student code runs; it replaces each forbidden function
 * where the library defines it by a wrapper that notes the call, so that every way of reaching it
 * counts: through `genlab`'s namespaces, an alias or destructured name taken at any time, a
 * computed property name, or another library module that calls it. The replaced properties are
 * locked, and a library file loaded a second time (`require.cache` emptied) is wrapped again.
 *
 * Limits (see the README): a call from inside the function's own source file is not seen, nor a
 * copy of the library's code pasted into the answer, nor code that deliberately rewrites the
 * kernel's module machinery or the answers file (both are student code's to break in its own
 * kernel); tfjs ops are watched where they are exported (`tf.softplus(x)`), not as chained methods
 * (`x.softplus()`).
 */
import Module from 'module';

/** A library function found by its path from the `genlab` module, e.g. "distributions.kl". */
export interface LibraryFunction {
  path: string;
  fn: (...args: unknown[]) => unknown;
  /** The objects whose own data property `key` holds the function (where it is defined). */
  owners: object[];
  key: string;
}

/** The candidate closest to `name` (at most two edits away, ignoring case), or null. */
export function closestName(name: string, candidates: readonly string[]): string | null {
  const distance = (a: string, b: string): number => {
    const d = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let previous = d[0];
      d[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const current = d[j];
        d[j] = Math.min(d[j] + 1, d[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
      }
    }
    return d[b.length];
  };
  let best: string | null = null;
  let bestDistance = 3;
  for (const c of candidates) {
    const dist = distance(name.toLowerCase(), c.toLowerCase());
    if (dist < bestDistance) [best, bestDistance] = [c, dist];
  }
  return best;
}

function isDataProperty(owner: object, key: string, fn: unknown): boolean {
  const desc = Object.getOwnPropertyDescriptor(owner, key);
  return desc !== undefined && 'value' in desc && desc.value === fn;
}

/**
 * Finds the library function at `path` (dot-separated names from the `genlab` module, e.g.
 * "distributions.kl", "models.gmm.bic", "distributions.Normal.fromLogVariance") and where
 * it is defined. Throws an Error naming the first part that is wrong, with a suggestion.
 */
export function resolveLibraryFunction(root: object, path: string): LibraryFunction {
  if (typeof path !== 'string' || !/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)+$/.test(path))
    throw new Error(
      `'${path}' is not a library function path like "distributions.kl" (names joined by dots)`,
    );
  const names = path.split('.');
  let owner: unknown = root;
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const here = names.slice(0, i).join('.') || 'genlab';
    const value =
      owner !== null && (typeof owner === 'object' || typeof owner === 'function')
        ? (owner as Record<string, unknown>)[name]
        : undefined;
    if (value === undefined) {
      const keys =
        owner !== null && typeof owner === 'object'
          ? Object.keys(owner)
          : typeof owner === 'function'
            ? Object.getOwnPropertyNames(owner)
            : [];
      const suggestion = closestName(name, keys);
      throw new Error(
        `${path}: ${here} has no '${name}'${suggestion ? ` (did you mean ${suggestion}?)` : ''}`,
      );
    }
    if (i === names.length - 1) {
      if (typeof value !== 'function') throw new Error(`${path} is not a function`);
      const fn = value as (...args: unknown[]) => unknown;
      const key = name;
      const definers = isDataProperty(owner as object, key, fn)
        ? [owner as object]
        : Object.values(require.cache)
            .map((m) => m?.exports as object | undefined)
            .filter((e): e is object => !!e && typeof e === 'object' && isDataProperty(e, key, fn));
      if (definers.length === 0) throw new Error(`${path}: cannot find where it is defined`);
      return { path, fn, owners: definers, key };
    }
    owner = value;
  }
  throw new Error(`${path}: empty path`);
}

interface Watched {
  target: LibraryFunction;
  /** The files whose exports define it, to wrap it again if one is loaded a second time. */
  files: string[];
}

/**
 * Replaces each function at `paths` by a wrapper that adds its path to a set, locks the replaced
 * properties, and keeps wrapping library files that are loaded again. Returns the function that
 * hands out (and clears) the set of paths called since its last call.
 */
export function watchCalls(root: object, paths: string[]): () => string[] {
  const called = new Set<string>();
  const wrappers = new WeakSet<object>();
  const wrap = (fn: (...args: unknown[]) => unknown, path: string) => {
    const wrapper = new Proxy(fn, {
      apply(target, thisArg, args) {
        called.add(path);
        return Reflect.apply(target, thisArg, args);
      },
      construct(target, args, newTarget) {
        called.add(path);
        return Reflect.construct(target, args, newTarget);
      },
    });
    wrappers.add(wrapper);
    return wrapper;
  };
  const lock = (owner: object, key: string, path: string) => {
    const desc = Object.getOwnPropertyDescriptor(owner, key);
    const fn = desc && 'value' in desc ? desc.value : undefined;
    if (typeof fn !== 'function' || wrappers.has(fn)) return;
    Object.defineProperty(owner, key, {
      value: wrap(fn, path),
      writable: false,
      configurable: false,
      enumerable: desc?.enumerable ?? true,
    });
  };
  const watched: Watched[] = paths.map((path) => {
    const target = resolveLibraryFunction(root, path);
    const files = Object.entries(require.cache)
      .filter(([, m]) => m && target.owners.includes(m.exports as object))
      .map(([file]) => file);
    for (const owner of target.owners) lock(owner, target.key, path);
    return { target, files };
  });
  const rewrap = () => {
    for (const { target, files } of watched)
      for (const file of files) {
        const exports = require.cache[file]?.exports as object | undefined;
        if (exports && typeof exports === 'object') lock(exports, target.key, target.path);
      }
  };
  const loader = Module as unknown as { _load: (...args: unknown[]) => unknown };
  const load = loader._load;
  Object.defineProperty(loader, '_load', {
    value: function (this: unknown, ...args: unknown[]) {
      const result = load.apply(this, args);
      rewrap();
      return result;
    },
    writable: false,
    configurable: false,
  });
  return () => {
    const names = [...called];
    called.clear();
    return names;
  };
}
