// spark.js: a tile's sparkline, drawn straight onto a small canvas. A chart
// library instance per tile would cost hundreds of objects on a 200-machine
// floor for a 40-pixel line; uPlot draws the machine view's real charts.

// points: [[ts, value|null], ...] oldest first; from/to: the x range (ms).
export function draw(canvas, points, from, to, stroke) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (!w || !h) return;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const pts = (points || []).filter((p) => p[1] !== null && Number.isFinite(p[1]));
  canvas.dataset.points = String(pts.length);
  if (pts.length === 0 || to <= from) return;
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of pts) {
    lo = Math.min(lo, p[1]);
    hi = Math.max(hi, p[1]);
  }
  if (hi === lo) {
    hi += 1;
    lo -= 1;
  }
  const pad = 3;
  const x = (t) => ((t - from) / (to - from)) * (w - 2 * pad) + pad;
  const y = (v) => h - pad - ((v - lo) / (hi - lo)) * (h - 2 * pad);
  ctx.strokeStyle = stroke;
  ctx.lineWidth = 1.5;
  ctx.lineJoin = 'round';
  ctx.beginPath();
  // A missing bucket breaks the line (the machine was not polled then).
  const step = pts.length > 1 ? Math.min(...pts.slice(1).map((p, i) => p[0] - pts[i][0])) : 0;
  pts.forEach((p, i) => {
    const gap = i > 0 && p[0] - pts[i - 1][0] > 1.5 * step;
    if (i === 0 || gap) ctx.moveTo(x(p[0]), y(p[1]));
    else ctx.lineTo(x(p[0]), y(p[1]));
  });
  ctx.stroke();
  const last = pts[pts.length - 1];
  ctx.fillStyle = stroke;
  ctx.beginPath();
  ctx.arc(x(last[0]), y(last[1]), 2.2, 0, 2 * Math.PI);
  ctx.fill();
}
