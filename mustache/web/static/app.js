"use strict";
// The page: photos stay in the browser until a button sends one (the raw file as the body);
// the server answers JSON, or {"error": "..."} which is shown as it is.
const $ = (id) => document.getElementById(id);
const state = { photos: [], current: null, config: null, donor: "", token: "" };
const wait = (ms) => new Promise((r) => setTimeout(r, ms));

function say(text) {
  const m = $("message");
  m.textContent = text || "";
  m.hidden = !text;
}

// Every POST carries the page's token (from its <meta>): the server refuses one without, so
// another web site cannot make this page's server work. A busy server (503) is asked again
// after the time it names, a few times.
async function post(url, body, type = "application/octet-stream") {
  for (let tries = 0; ; tries++) {
    const r = await fetch(url, {
      method: "POST", body, headers: { "Content-Type": type, "X-Mustache-Token": state.token } });
    if (r.status !== 503 || tries >= 5) return r;
    await wait(1000 * (Number(r.headers.get("Retry-After")) || 2));
  }
}

async function call(url, body) {
  const r = body === undefined ? await fetch(url) : await post(url, body);
  const json = await r.json().catch(() => ({ error: `the server answered ${r.status}` }));
  if (!r.ok) throw new Error(json.error || `the server answered ${r.status}`);
  return json;
}

function addPhotos(files) {
  say("");
  for (const file of files) {
    if (file.size > state.config.max_bytes) {
      say(`${file.name}: the file is too large (${(file.size / 2 ** 20).toFixed(1)} MB; the limit is ${Math.round(state.config.max_bytes / 2 ** 20)} MB)`);
      continue;
    }
    const p = { file, url: URL.createObjectURL(file), result: null, faces: null, off: new Set() };
    const li = document.createElement("li");
    const img = document.createElement("img");
    img.src = p.url; img.alt = "";
    const text = document.createElement("span");
    text.innerHTML = `<span class="name"></span><br><span class="state">not applied yet</span>`;
    text.querySelector(".name").textContent = file.name;
    li.append(img, text);
    li.addEventListener("click", () => select(p));
    p.li = li;
    $("photos").append(li);
    state.photos.push(p);
    if (!state.current) select(p);
  }
}

function select(p) {
  state.current = p;
  for (const q of state.photos) q.li.classList.toggle("selected", q === p);
  $("variations").replaceChildren();
  show(p);
}

function settings(extra = {}) {
  const q = new URLSearchParams({
    seed: $("seed").value || "0", strength: $("strength").value, style: $("style").value,
    color: $("color").value === "custom" ? $("color-pick").value : $("color").value,
    length: $("length").value, thickness: $("thickness").value, force: $("force").checked,
    ...extra });
  if (document.querySelector("input[name=mode]:checked").value === "donor") {
    if (!state.donor) throw new Error("choose a donor photo first (a face with a mustache)");
    q.set("donor", state.donor);
  }
  return q;
}

function params(p, extra = {}) {
  const q = settings({ name: p.file.name, keep_exif: $("keep-exif").checked, ...extra });
  if (p.faces && p.off.size) {
    const on = p.faces.map((f) => f.index).filter((i) => !p.off.has(i));
    q.set("faces", on.length ? on.join(",") : "none");
  }
  return q;
}

async function applyTo(p) {
  say("");
  p.li.querySelector(".state").textContent = "working...";
  const t0 = performance.now();
  try {
    const r = await call(`/api/apply?${params(p)}`, p.file);
    p.result = r;
    p.faces = r.faces;
    const n = r.faces.filter((f) => f.blended).length;
    p.li.querySelector(".state").textContent =
      `${n} of ${r.faces.length} face${r.faces.length === 1 ? "" : "s"} changed, ${((performance.now() - t0) / 1000).toFixed(2)} s`;
  } catch (e) {
    p.result = null;
    p.li.querySelector(".state").textContent = "failed";
    say(`${p.file.name}: ${e.message}`);
  }
  if (p === state.current) show(p);
}

function show(p) {
  const r = p.result;
  $("before").src = p.url;
  $("compare").hidden = !r;
  $("compare-note").hidden = !r;
  $("download").hidden = !r;
  $("crops-title").hidden = !(r && r.crops.length);
  $("crops").replaceChildren();
  renderFaces(p);
  if (!r) { $("status").textContent = ""; return; }
  $("after").src = r.url;
  $("download").href = `${r.url}?download=1`;
  $("download").setAttribute("download", r.filename);
  $("download").textContent = `Download ${r.filename} (${r.width}x${r.height}, ${(r.bytes / 2 ** 20).toFixed(1)} MB)`;
  const notes = r.faces.filter((f) => !f.blended && f.note !== "not selected")
    .map((f) => `face ${f.index}: ${f.note}`);
  $("status").textContent = [`${r.width}x${r.height} ${r.format}`, ...notes, ...r.warnings].join(" \u00b7 ");
  for (const c of r.crops) {
    const fig = document.createElement("figure");
    const cap = document.createElement("figcaption");
    cap.textContent = `face ${c.index}`;
    const before = new Image(); before.src = c.before; before.alt = `face ${c.index} before, 100%`;
    const after = new Image(); after.src = c.after; after.alt = `face ${c.index} after, 100%`;
    after.className = "crop-after";
    fig.append(cap, before, after);
    $("crops").append(fig);
  }
}

function renderFaces(p) {
  const box = $("faces");
  box.replaceChildren();
  if (!p.faces || !p.faces.length) return;
  box.append("Faces: ");
  for (const f of p.faces) {
    const label = document.createElement("label");
    const cb = document.createElement("input");
    cb.type = "checkbox"; cb.checked = !p.off.has(f.index); cb.dataset.face = f.index;
    cb.addEventListener("change", () => {
      if (cb.checked) p.off.delete(f.index); else p.off.add(f.index);
      applyTo(p);
    });
    label.append(cb, ` ${f.index}`);
    box.append(label);
  }
}

async function vary() {
  const p = state.current;
  if (!p) return say("choose a photo first");
  say("");
  const grid = $("variations");
  grid.replaceChildren("working...");
  try {
    const r = await call(`/api/variations?${params(p, { count: 4 })}`, p.file);
    grid.replaceChildren();
    for (const v of r.variations) {
      const fig = document.createElement("figure");
      const img = new Image(); img.src = v.crop; img.alt = `seed ${v.seed}`;
      const cap = document.createElement("figcaption"); cap.textContent = `seed ${v.seed}`;
      fig.append(img, cap);
      fig.addEventListener("click", () => { $("seed").value = v.seed; applyTo(p); });
      grid.append(fig);
    }
  } catch (e) {
    grid.replaceChildren();
    say(`${p.file.name}: ${e.message}`);
  }
}

async function setDonor(file) {
  say("");
  state.donor = "";
  $("donor-status").textContent = "reading the donor...";
  try {
    const r = await call("/api/donor", file);
    state.donor = r.donor;
    settingsChanged();  // a running webcam takes the new donor
    $("donor-status").textContent = ["donor ready", ...r.warnings].join(" \u00b7 ");
  } catch (e) {
    $("donor-status").textContent = "";
    say(`donor ${file.name}: ${e.message}`);
  }
}

async function loadExample(name) {
  const r = await fetch(`/api/examples/${name}`);
  const blob = await r.blob();
  addPhotos([new File([blob], `${name}.png`, { type: "image/png" })]);
}

// Webcam: the camera is drawn into a canvas that is never shown, sent as a JPEG of at most
// 640 px, and the answer drawn; the next frame leaves only when the answer is back, so a slow
// server lowers the frame rate instead of piling up frames. A new settings query makes the
// server start a new stream (the faces are painted again with the new settings).
const live = { camera: null, video: null, query: "", generation: 0, frames: 0 };
const LIVE_MAX = 640;
const CAMERA_ERRORS = {
  NotAllowedError: "the camera was not allowed: allow it for this page (the camera icon in the address bar), then click Webcam again",
  SecurityError: "the camera was not allowed: allow it for this page (the camera icon in the address bar), then click Webcam again",
  NotFoundError: "no camera was found on this computer",
  OverconstrainedError: "no camera was found on this computer",
  NotReadableError: "the camera is in use by another program (or the system blocked it)",
  AbortError: "the camera could not start; try again",
};

async function startWebcam() {
  say("");
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia)
    return say("webcam: this browser offers no camera to this page (open it as http://127.0.0.1 or http://localhost)");
  try { live.query = settings().toString(); } catch (e) { return say(`webcam: ${e.message}`); }
  let camera;
  try {
    camera = await navigator.mediaDevices.getUserMedia({ audio: false, video: { width: { ideal: 640 }, height: { ideal: 480 } } });
  } catch (e) {
    return say(`webcam: ${CAMERA_ERRORS[e.name] || `the camera cannot start (${e.message})`}`);
  }
  const video = document.createElement("video");
  video.muted = true; video.playsInline = true; video.srcObject = camera;
  try { await video.play(); } catch (e) {
    camera.getTracks().forEach((t) => t.stop());
    return say(`webcam: the camera cannot start (${e.message})`);
  }
  Object.assign(live, { camera, video, frames: 0 });
  const gen = ++live.generation;
  $("webcam").hidden = true; $("webcam-stop").hidden = false; $("live").hidden = false;
  $("live-status").textContent = "starting (the first frame paints each face, about a second)...";
  liveLoop(gen);
}

async function liveLoop(gen) {
  const grab = document.createElement("canvas");  // the hidden canvas the camera is drawn in
  const out = $("live-out");
  let since = performance.now(), count = 0;
  while (gen === live.generation) {
    const v = live.video;
    if (!v.videoWidth) { await new Promise((r) => setTimeout(r, 50)); continue; }
    const scale = Math.min(1, LIVE_MAX / Math.max(v.videoWidth, v.videoHeight));
    grab.width = Math.round(v.videoWidth * scale); grab.height = Math.round(v.videoHeight * scale);
    grab.getContext("2d").drawImage(v, 0, 0, grab.width, grab.height);
    const blob = await new Promise((r) => grab.toBlob(r, "image/jpeg", 0.8));
    let r;
    try {
      r = await post(`/api/live?${live.query}`, blob, "image/jpeg");
    } catch (e) {
      if (gen === live.generation) { say(`webcam: the server cannot be reached (${e.message})`); stopWebcam(); }
      return;
    }
    if (gen !== live.generation) return;  // stopped, or restarted, meanwhile
    if (!r.ok) {
      const j = await r.json().catch(() => ({}));
      say(`webcam: ${j.error || `the server answered ${r.status}`}`);
      return stopWebcam();
    }
    const faces = r.headers.get("X-Mustache-Faces") || "0";
    const frame = await createImageBitmap(await r.blob());
    if (gen !== live.generation) return;
    out.width = frame.width; out.height = frame.height;
    out.getContext("2d").drawImage(frame, 0, 0);
    frame.close();
    out.dataset.frames = String(++live.frames);
    count++;
    const s = (performance.now() - since) / 1000;
    if (s > 1) {
      $("live-status").textContent = `${out.width}x${out.height} \u00b7 ${faces} face${faces === "1" ? "" : "s"} with a mustache \u00b7 ${(count / s).toFixed(1)} frames/s`;
      since = performance.now(); count = 0;
    }
  }
}

function stopWebcam() {
  live.generation++;
  if (live.camera) live.camera.getTracks().forEach((t) => t.stop());  // the camera's light goes off
  live.camera = null; live.video = null;
  $("webcam").hidden = false; $("webcam-stop").hidden = true;
  $("live-status").textContent = "stopped";
  post("/api/live/stop").catch(() => {});
}

function settingsChanged() {
  if (!live.camera) return;
  try { live.query = settings().toString(); } catch (e) { say(`webcam: ${e.message}`); stopWebcam(); }
}

async function start() {
  state.token = document.querySelector("meta[name=mustache-token]").content;
  if (!state.token) say("this page has no session (it was not opened as a page of its own): reload it");
  state.config = await call("/api/config");
  $("keep-exif").checked = state.config.keep_exif;
  for (const s of state.config.styles) $("style").append(new Option(s.replace("_", " "), s));
  for (const c of state.config.colours) $("color").append(new Option(c, c));
  $("color").append(new Option("your own colour", "custom"));
  for (const name of state.config.examples) {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = name; b.dataset.example = name;
    b.addEventListener("click", () => loadExample(name));
    $("examples").append(b);
  }
  for (const id of ["thickness", "length", "strength"]) {
    const out = document.querySelector(`output[for=${id}]`);
    const sync = () => { out.textContent = $(id).value; };
    $(id).addEventListener("input", sync); sync();
  }
  $("files").addEventListener("change", (e) => { addPhotos(e.target.files); e.target.value = ""; });
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault(); drop.classList.remove("over"); addPhotos(e.dataTransfer.files); });
  for (const r of document.querySelectorAll("input[name=mode]"))
    r.addEventListener("change", () => { $("donor-box").hidden = r.value !== "donor" || !r.checked; });
  $("donor-file").addEventListener("change", (e) => e.target.files[0] && setDonor(e.target.files[0]));
  $("apply").addEventListener("click", () => state.current ? applyTo(state.current) : say("choose a photo first"));
  $("apply-all").addEventListener("click", async () => { for (const p of state.photos) await applyTo(p); });
  $("vary").addEventListener("click", vary);
  $("webcam").addEventListener("click", startWebcam);
  $("webcam-stop").addEventListener("click", stopWebcam);
  for (const el of document.querySelectorAll("#controls input, #controls select"))
    if (el.id !== "donor-file") el.addEventListener("change", settingsChanged);
  $("slider").addEventListener("input", (e) => { $("after-clip").style.width = `${e.target.value}%`; });
}

window.addEventListener("DOMContentLoaded", () => start().catch((e) => say(e.message)));
