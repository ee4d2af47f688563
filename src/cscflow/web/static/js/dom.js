// Small DOM helpers shared by the Linkage and Timescales pages.

export const $ = (id) => document.getElementById(id);

// An element with its text (never HTML: values from the API are shown as text) and class.
export function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
