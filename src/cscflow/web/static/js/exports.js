// The downloads of the map page follow its current view: "Download report" asks /api/report for the slider's
// period, the date shown (the report's map still) and the cohort filter; "Download video" asks /api/video for the
// map playing from the date shown for up to a year (to the data's end, and at most two minutes of video: the
// server renders at most 3,600 frames), at the speed set, in the convention and for the cohort shown.
import { query } from "./api.js";
import { isoOf } from "./blob.js";

const YEAR = 365, MAX_SECONDS = 118;   // under 3,600 frames at 30 a second, whatever the rounding of the speed

// view: {epoch, day, from, end (days since epoch), where, speed (days/s), convention}.
export function viewLinks(view) {
  const { epoch, day, from, end, where, speed, convention } = view;
  const report = document.getElementById("download-report");
  if (report) {
    report.href = "/api/report" + query({ start: isoOf(epoch + Math.min(from, day)), end: isoOf(epoch + end),
      date: isoOf(epoch + day), ...where });
  }
  const video = document.getElementById("download-video");
  if (video) {
    const dps = Math.max(0.5, Math.min(365, Number(speed) || 30));
    const last = Math.min(end, day + YEAR, day + Math.floor(dps * MAX_SECONDS));
    video.href = "/api/video" + query({ start: isoOf(epoch + day), end: isoOf(epoch + Math.max(last, day + 1)),
      days_per_second: dps.toFixed(2), convention, ...where });
  }
}
