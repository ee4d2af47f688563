// Colours: repeat involvement from white (first time) to deep red (many times: one hue, ordered by lightness, read
// alike with any colour vision), categories and cohorts from colour-blind safe sets (Okabe & Ito 2008, then
// Paul Tol's "muted" scheme), cohorts A and B sky blue and orange.
function rgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [((v >> 16) & 255) / 255, ((v >> 8) & 255) / 255, (v & 255) / 255];
}
export const REPEAT = ["#ffffff", "#fcd5c5", "#f9a58a", "#f06a4f", "#cc2a26", "#8b0000"];
export const REPEAT_LABELS = ["1st time", "2nd", "3rd", "4th", "5th", "6th or more"];
export const CATEGORIES = ["#56b4e9", "#e69f00", "#009e73", "#f0e442", "#cc79a7", "#d55e00", "#0072b2", "#999999",
  "#88ccee", "#ddcc77", "#117733", "#cc6677", "#44aa99", "#aa4499", "#882255", "#dddddd"];
export const COHORT_A = 0, COHORT_B = 1;     // indices in CATEGORIES for compared cohorts

export function paletteArray(hexes) {
  const out = new Float32Array(48);
  hexes.slice(0, 16).forEach((h, i) => out.set(rgb(h), i * 3));
  return out;
}
// The map's overlay of overdue clocks (overdue.js): the children with a clock overdue a bright violet, every other dot
// a dim slate grey. Chosen by distance in CAM02-UCS under normal vision and full deutan, protan and tritan vision
// (Machado et al. 2009, simulated with colorspacious): violet to grey at least 28.9, to the map's background at
// least 54, and to every colour of REPEAT and CATEGORIES at least 12.7 (the bright colour furthest from them all).
export const OVERDUE = "#b469ff", NOT_OVERDUE = "#56606b";
