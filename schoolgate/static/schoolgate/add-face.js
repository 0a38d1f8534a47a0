// The photo page (media/item.html): drag on the photo to fill the "add a face" box in percentages of the photo.
// A static file, not an inline script, so the Content-Security-Policy needs no 'unsafe-inline'.
(function () {
  const frame = document.getElementById("photo-frame");
  const form = document.getElementById("add-face");
  if (!frame || !form) return;
  let start = null, box = null;
  const at = (event) => {
    const r = frame.getBoundingClientRect();
    return {x: Math.min(Math.max((event.clientX - r.left) / r.width, 0), 1), y: Math.min(Math.max((event.clientY - r.top) / r.height, 0), 1)};
  };
  const rect = (a, b) => ({left: Math.min(a.x, b.x), top: Math.min(a.y, b.y), width: Math.abs(a.x - b.x), height: Math.abs(a.y - b.y)});
  frame.addEventListener("pointerdown", (event) => {
    start = at(event);
    frame.setPointerCapture(event.pointerId);
    if (!box) { box = document.createElement("div"); box.className = "face-box drawing"; frame.appendChild(box); }
    event.preventDefault();
  });
  frame.addEventListener("pointermove", (event) => {
    if (!start) return;
    const r = rect(start, at(event));
    for (const key of ["left", "top", "width", "height"]) box.style[key] = (r[key] * 100) + "%";
  });
  frame.addEventListener("pointerup", (event) => {
    if (!start) return;
    const r = rect(start, at(event));
    start = null;
    for (const key of ["left", "top", "width", "height"]) form.elements[key].value = (r[key] * 100).toFixed(2);
    form.querySelector("button[type=submit]").focus();
  });
})();
