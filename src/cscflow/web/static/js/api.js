// Talking to the local API (same origin only; the token, if any, travels in a cookie).
import { parseBlob } from "./blob.js";

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === null || v === undefined || v === "") continue;
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
    else q.append(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

async function check(res) {
  if (!res.ok) {
    let msg = `${res.status}`;
    try { msg = (await res.json()).detail || msg; } catch (e) { /* not JSON */ }
    throw new Error(msg);
  }
  return res;
}

export async function getJSON(path, params) {
  const res = await check(await fetch(path + query(params), { credentials: "same-origin" }));
  return res.json();
}

export async function getBlob(path, params) {
  const res = await check(await fetch(path + query(params), { credentials: "same-origin" }));
  return parseBlob(await res.arrayBuffer());
}

// The one loader of plotly.js (served by the app from /vendor, never from a CDN), shared by every page that charts.
let plotly = null;
export function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!plotly) {
    plotly = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = "/vendor/plotly.min.js";
      s.onload = () => resolve(window.Plotly);
      s.onerror = () => { plotly = null; reject(new Error("plotly.js could not be loaded")); };
      document.head.appendChild(s);
    });
  }
  return plotly;
}
