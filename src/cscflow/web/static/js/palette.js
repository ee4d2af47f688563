// Colours: repeat involvement from white (first time) to deep red (many times), categories, cohorts.
function rgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [((v >> 16) & 255) / 255, ((v >> 8) & 255) / 255, (v & 255) / 255];
}
export const REPEAT = ["#ffffff", "#fcd5c5", "#f9a58a", "#f06a4f", "#cc2a26", "#8b0000"];
export const REPEAT_LABELS = ["1st time", "2nd", "3rd", "4th", "5th", "6th or more"];
export const CATEGORIES = ["#4fc3f7", "#ffb74d", "#aed581", "#f06292", "#ba68c8", "#fff176", "#4db6ac", "#e57373",
  "#90a4ae", "#9575cd", "#81c784", "#ffd54f", "#64b5f6", "#a1887f", "#dce775", "#ff8a65"];
export const COHORT_A = 0, COHORT_B = 1;     // indices in CATEGORIES for compared cohorts

export function paletteArray(hexes) {
  const out = new Float32Array(48);
  hexes.slice(0, 16).forEach((h, i) => out.set(rgb(h), i * 3));
  return out;
}
