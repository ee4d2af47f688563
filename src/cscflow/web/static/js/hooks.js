// window.cscflow: what the map page offers scripts and tests (docs/contracts.md). Kept apart from the page's
// state: main.js owns its state and hands this module read-only views of it (getters) and its actions; scripts
// never write the page's state through here. Writable here are only the channels scripts and modules use to
// talk to the page: `probe` and `drawMs` (frame timing on request) and the records of what was last shown
// (`error`, `panel`, `child`, `analytics`).
export function expose(views, actions) {
  const hooks = { probe: false, drawMs: [], error: null, panel: null, child: null, analytics: null };
  for (const [name, get] of Object.entries(views)) Object.defineProperty(hooks, name, { get, enumerable: true });
  for (const [name, fn] of Object.entries(actions)) Object.defineProperty(hooks, name, { value: fn, enumerable: true });
  window.cscflow = hooks;
  return hooks;
}

