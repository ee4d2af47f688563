// The WebGL2 programs of the map's renderer (gl.js): the point path's shaders (positions interpolated in the vertex
// shader, the same formula as data.positionOf), the full-screen passes (the map, the splat image, trails) and the
// textured boxes (labels and counts), with the small helpers that compile them and make textures.
import { ROUTE_W } from "./network.js";

export const VERTEX = `#version 300 es
precision highp float;
precision highp int;
in vec4 a_leg0;    // route, depart, arrive, until (days)
in vec4 a_leg1;    // traverse offset (px), ring angle, ring place (0-1), station waited at
in float a_col;
uniform float u_t;
uniform vec2 u_px;        // CSS px -> clip space: (2 / width, -2 / height)
uniform float u_size;
uniform vec3 u_pal[16];
uniform int u_fixed;      // >= 0: one colour for the whole layer
uniform highp sampler2D u_routes;   // the network (network.js): routes' polylines, then the stations' rings
uniform int u_nRoutes;
out vec3 v_col;
void main() {
  if (u_t < a_leg0.y || u_t >= a_leg0.w) { gl_Position = vec4(2.0, 2.0, 2.0, 1.0); gl_PointSize = 0.0; return; }
  vec2 pos;
  if (u_t >= a_leg0.z) {           // waiting in the station's ring
    vec4 s = texelFetch(u_routes, ivec2(0, u_nRoutes + int(a_leg1.w + 0.5)), 0);
    if (s.w < 0.0) { gl_Position = vec4(2.0, 2.0, 2.0, 1.0); gl_PointSize = 0.0; return; }   // drawn as density
    float rad = sqrt(s.z * s.z + a_leg1.z * (s.w * s.w - s.z * s.z));
    pos = s.xy + rad * vec2(cos(a_leg1.y), sin(a_leg1.y));
  } else {                         // on the route, a little to one side when the leg is slow
    float p = (u_t - a_leg0.y) / max(a_leg0.z - a_leg0.y, 1e-6);
    int k = int(a_leg0.x + 0.5);
    vec4 head = texelFetch(u_routes, ivec2(0, k), 0);
    int n = int(head.x + 0.5);
    float d = p * head.y;
    vec4 a = texelFetch(u_routes, ivec2(1, k), 0);
    vec4 b = a;
    for (int i = 2; i < ${ROUTE_W}; i++) {
      if (i > n) break;
      b = texelFetch(u_routes, ivec2(i, k), 0);
      if (b.z >= d || i == n) break;
      a = b;
    }
    float f = clamp((d - a.z) / max(b.z - a.z, 1e-6), 0.0, 1.0);
    vec2 dir = b.xy - a.xy;
    float len = length(dir);
    vec2 u = len > 1e-6 ? dir / len : vec2(0.0);
    pos = mix(a.xy, b.xy, f) + vec2(-u.y, u.x) * a_leg1.x * sin(3.14159265 * p);
  }
  gl_Position = vec4(pos.x * u_px.x - 1.0, pos.y * u_px.y + 1.0, 0.0, 1.0);
  gl_PointSize = u_size;
  v_col = u_fixed >= 0 ? u_pal[u_fixed] : u_pal[int(a_col)];
}`;

// A round dot with a soft one-pixel rim (blended over the map); with u_ring (px) a hollow ring that wide.
export const FRAGMENT = `#version 300 es
precision mediump float;
in vec3 v_col;
uniform float u_alpha, u_ring;
uniform highp float u_size;
out vec4 colour;
void main() {
  float r = length(gl_PointCoord - 0.5) * u_size;
  float a = u_alpha * clamp(u_size * 0.5 - r + 0.5, 0.0, 1.0) * (u_ring > 0.0 ? clamp(r - u_size * 0.5 + u_ring + 0.5, 0.0, 1.0) : 1.0);
  if (a <= 0.0) discard;
  colour = vec4(v_col * a, a);
}`;

export const FADE_V = `#version 300 es
in vec2 a_xy; out vec2 v_uv; void main() { v_uv = a_xy * 0.5 + 0.5; gl_Position = vec4(a_xy, 0.0, 1.0); }`;
export const COPY_F = `#version 300 es
precision mediump float; in vec2 v_uv; uniform sampler2D u_tex; out vec4 colour;
void main() { colour = texture(u_tex, v_uv); }`;
// The map and the stamped dots (splat.js) in one pass: a dot's palette index where there is one, else the map.
export const SPLAT_F = `#version 300 es
precision mediump float;
in vec2 v_uv;
uniform sampler2D u_tex;
uniform mediump usampler2D u_idx;
uniform vec3 u_pal[16];
uniform int u_texel, u_h;
out vec4 colour;
void main() {
  ivec2 c = ivec2(gl_FragCoord.xy);
  uint k = texelFetch(u_idx, ivec2(c.x / u_texel, (u_h - 1 - c.y) / u_texel), 0).r;
  vec4 map = texture(u_tex, v_uv);
  colour = k == 0u ? map : vec4(mix(map.rgb, u_pal[k & 15u], float(k >> 4) / 3.0), 1.0);
}`;

// Textured boxes with their own texture coordinates (the station counts and the density rings, from their atlas).
export const TEX_V = `#version 300 es
in vec2 a_xy; in vec2 a_uv; out vec2 v_uv; void main() { v_uv = a_uv; gl_Position = vec4(a_xy, 0.0, 1.0); }`;
export const FADE_F = `#version 300 es
precision mediump float; uniform float u_keep; out vec4 colour;
void main() { colour = vec4(0.0, 0.0, 0.0, 1.0 - u_keep); }`;

function compile(gl, type, src) {
  const s = gl.createShader(type);
  gl.shaderSource(s, src);
  gl.compileShader(s);
  if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s));
  return s;
}
// A new texture, bound, sampled nearest (and clamped to its edges with `clamp`).
export function texture(gl, clamp = false) {
  const tex = gl.createTexture();
  gl.bindTexture(gl.TEXTURE_2D, tex);
  for (const k of [gl.TEXTURE_MIN_FILTER, gl.TEXTURE_MAG_FILTER]) gl.texParameteri(gl.TEXTURE_2D, k, gl.NEAREST);
  if (clamp) for (const k of [gl.TEXTURE_WRAP_S, gl.TEXTURE_WRAP_T]) gl.texParameteri(gl.TEXTURE_2D, k, gl.CLAMP_TO_EDGE);
  return tex;
}
export function program(gl, vs, fs) {
  const p = gl.createProgram();
  gl.attachShader(p, compile(gl, gl.VERTEX_SHADER, vs));
  gl.attachShader(p, compile(gl, gl.FRAGMENT_SHADER, fs));
  gl.linkProgram(p);
  if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(p));
  return p;
}
