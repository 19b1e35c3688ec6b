// The browser side of Bifrost's WebRTC calls: device preview, join, media and
// the signalling protocol documented in bridge/webcall/doc.go. No framework,
// no build step.

const $ = (id) => document.getElementById(id);
const alias = decodeURIComponent(location.pathname.split("/")[2] || "");

const messages = {
  wrong_pin: "That PIN is not right. Check it and try again.",
  room_not_found: "There is no meeting at this address. Check the link.",
  room_locked: "The meeting is locked. Ask the host to unlock it, then try again.",
  room_full: "The meeting is full. Try again later.",
  bad_message: "Your browser and the server did not understand each other. Reload the page.",
  out_of_order: "Your browser and the server did not understand each other. Reload the page.",
  shutting_down: "The server is restarting. Try again in a minute.",
  internal: "The server could not take the call. Try again.",
};

const state = {
  stream: null,        // camera and microphone
  ws: null,
  pc: null,
  self: "",
  name: "",
  pin: "",
  cameraTransceiver: null,
  muted: false,
  cameraOff: false,
  leaving: false,       // the user left, or the server said why: no re-join
  retries: 0,
  streams: new Map(),   // participant ID → MediaStream of its video
  participants: [],
  speaker: "",
};
// Tests and support read the call's state here (getStats on state.pc).
window.bifrost = state;

function showLobbyError(text) {
  const p = $("lobby-error");
  p.textContent = text;
  p.hidden = !text;
}

function setStatus(text) { $("status").textContent = text; }

// ---- Devices and preview

async function openDevices() {
  const cam = $("camera").value, mic = $("mic").value;
  const constraints = {
    audio: mic ? { deviceId: { exact: mic } } : true,
    video: cam ? { deviceId: { exact: cam }, width: { ideal: 1280 }, height: { ideal: 720 } } : { width: { ideal: 1280 }, height: { ideal: 720 } },
  };
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia(constraints);
  } catch (err) {
    if (err.name === "NotAllowedError" || err.name === "SecurityError") {
      showLobbyError("Bifrost may not use your camera and microphone. Allow them in your browser's site settings, then reload. You can still join to watch and listen.");
    } else if (err.name === "NotFoundError" || err.name === "OverconstrainedError") {
      try { // no camera: the microphone alone
        stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      } catch {
        showLobbyError("No camera or microphone was found. You can still join to watch and listen.");
      }
    } else if (err.name === "NotReadableError") {
      showLobbyError("Your camera or microphone is in use by another program. Close it, then choose the device again.");
    } else {
      showLobbyError("Your camera and microphone cannot be opened: " + err.message);
    }
  }
  if (state.stream) state.stream.getTracks().forEach((t) => t.stop());
  state.stream = stream || null;
  $("preview").srcObject = state.stream;
  meter();
  await listDevices();
  if (state.pc) await attachLocalTracks();
}

async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  for (const [kind, select] of [["videoinput", $("camera")], ["audioinput", $("mic")]]) {
    const current = state.stream?.getTracks().find((t) => t.kind === (kind === "videoinput" ? "video" : "audio"))?.getSettings().deviceId;
    select.replaceChildren();
    devices.filter((d) => d.kind === kind).forEach((d, i) => {
      const o = new Option(d.label || `${kind === "videoinput" ? "Camera" : "Microphone"} ${i + 1}`, d.deviceId);
      o.selected = d.deviceId === current;
      select.append(o);
    });
    select.disabled = select.options.length === 0;
  }
}

let meterTimer = 0;
function meter() {
  clearInterval(meterTimer);
  const track = state.stream?.getAudioTracks()[0];
  if (!track || !window.AudioContext) return;
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  ctx.createMediaStreamSource(new MediaStream([track])).connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  meterTimer = setInterval(() => {
    if (track.readyState === "ended") { clearInterval(meterTimer); ctx.close(); return; }
    analyser.getFloatTimeDomainData(buf);
    let peak = 0;
    for (const v of buf) peak = Math.max(peak, Math.abs(v));
    $("level").value = peak;
  }, 100);
}

// ---- Signalling

function send(msg) {
  if (state.ws?.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(msg));
}

function join() {
  state.leaving = false;
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${proto}//${location.host}/join/${encodeURIComponent(alias)}/ws`);
  state.ws = ws;
  ws.onopen = () => send({ type: "join", name: state.name, pin: state.pin });
  ws.onmessage = (ev) => handle(JSON.parse(ev.data)).catch((err) => {
    console.error(err);
    setStatus("Something went wrong: " + err.message);
  });
  ws.onclose = () => {
    if (state.ws !== ws) return;
    closePeer();
    if (state.leaving) return;
    // Connection lost: re-join, backing off.
    state.retries++;
    if (state.retries > 8) {
      backToLobby("The connection to the meeting was lost. Check your network and join again.");
      return;
    }
    const wait = Math.min(1000 * 2 ** (state.retries - 1), 10000);
    setStatus(`Connection lost. Re-joining in ${Math.round(wait / 1000)} s…`);
    setTimeout(() => { if (!state.leaving) join(); }, wait);
  };
}

async function handle(m) {
  switch (m.type) {
    case "joined":
      state.self = m.id;
      state.retries = 0;
      $("room-name").textContent = m.room || "Meeting";
      document.title = `${m.room || "Meeting"} · Bifrost`;
      showCall();
      setStatus("Connecting…");
      newPeer(m.ice_servers || []);
      break;
    case "offer":
      await answer(m.sdp);
      break;
    case "participants":
      state.participants = m.participants;
      state.speaker = m.active_speaker;
      renderTiles();
      break;
    case "speaker":
      state.speaker = m.id;
      highlight();
      break;
    case "error":
      if (m.code === "wrong_pin" || m.code === "room_full" || m.code === "room_locked") {
        // The socket stays open for another try, but the lobby starts fresh.
        state.leaving = true;
        state.ws.close();
        backToLobby(messages[m.code]);
        if (m.code === "wrong_pin") $("pin").focus();
        return;
      }
      state.leaving = true;
      backToLobby(messages[m.code] || m.message);
      break;
    case "bye":
      state.leaving = true;
      backToLobby(m.reason === "kicked" ? "You were removed from the meeting." :
        m.reason === "shutdown" ? "The server is restarting. Join again in a minute." : "The call ended.");
      break;
  }
}

function newPeer(iceServers) {
  const pc = new RTCPeerConnection({ iceServers, bundlePolicy: "max-bundle", rtcpMuxPolicy: "require" });
  state.pc = pc;
  state.cameraTransceiver = null;
  pc.onicecandidate = (ev) => {
    if (ev.candidate) {
      send({ type: "candidate", candidate: ev.candidate.candidate, sdp_mid: ev.candidate.sdpMid, sdp_mline_index: ev.candidate.sdpMLineIndex });
    }
  };
  pc.ontrack = (ev) => {
    if (ev.track.kind === "audio") {
      $("mix").srcObject = new MediaStream([ev.track]);
      return;
    }
    const id = ev.streams[0]?.id;
    if (!id || ev.transceiver === state.cameraTransceiver) return;
    state.streams.set(id, ev.streams[0]);
    ev.streams[0].onremovetrack = () => { state.streams.delete(id); renderTiles(); };
    renderTiles();
  };
  pc.onconnectionstatechange = () => {
    if (state.pc !== pc) return;
    if (pc.connectionState === "connected") setStatus("");
    if (pc.connectionState === "failed") {
      setStatus("The media connection failed. Re-joining…");
      state.ws?.close(); // onclose re-joins
    }
  };
}

// answer takes a server offer; on the first one the microphone goes on the
// audio transceiver and the camera on the first video one (the server's
// offers keep that order; later video transceivers bring other people).
async function answer(sdp) {
  const pc = state.pc;
  await pc.setRemoteDescription({ type: "offer", sdp });
  if (!state.cameraTransceiver) {
    state.cameraTransceiver = pc.getTransceivers().find((t) => t.receiver.track.kind === "video") || null;
    await attachLocalTracks();
  }
  const ans = await pc.createAnswer();
  await pc.setLocalDescription(ans);
  send({ type: "answer", sdp: pc.localDescription.sdp });
}

async function attachLocalTracks() {
  const pc = state.pc;
  const audio = pc.getTransceivers().find((t) => t.receiver.track.kind === "audio");
  const mic = state.stream?.getAudioTracks()[0] || null;
  const cam = state.stream?.getVideoTracks()[0] || null;
  if (mic) mic.enabled = !state.muted;
  if (cam) cam.enabled = !state.cameraOff;
  if (audio) {
    await audio.sender.replaceTrack(mic);
    audio.direction = "sendrecv";
  }
  if (state.cameraTransceiver) {
    await state.cameraTransceiver.sender.replaceTrack(cam);
    state.cameraTransceiver.direction = "sendonly";
  }
}

function closePeer() {
  state.pc?.close();
  state.pc = null;
  state.streams.clear();
}

// ---- Views

function showCall() {
  $("lobby").hidden = true;
  $("call").hidden = false;
  $("leave").focus();
}

function backToLobby(error) {
  closePeer();
  state.participants = [];
  $("tiles").replaceChildren();
  $("call").hidden = true;
  $("lobby").hidden = false;
  $("join").disabled = false;
  showLobbyError(error || "");
  document.title = "Join the meeting · Bifrost";
  if (!error) $("join").focus();
}

function initials(name) {
  return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join("");
}

function renderTiles() {
  const list = $("tiles");
  const keep = new Set();
  for (const p of state.participants) {
    keep.add(p.id);
    let li = list.querySelector(`li[data-id="${CSS.escape(p.id)}"]`);
    if (!li) {
      li = document.createElement("li");
      li.className = "tile";
      li.dataset.id = p.id;
      const video = document.createElement("video");
      video.autoplay = true;
      video.playsInline = true;
      video.muted = true; // the sound is the mix
      const ini = document.createElement("span");
      ini.className = "initials";
      ini.setAttribute("aria-hidden", "true");
      const name = document.createElement("span");
      name.className = "name";
      li.append(video, ini, name);
      list.append(li);
    }
    li.classList.toggle("self", p.self === true);
    const label = p.self ? `${p.name} (you)` : p.name;
    li.querySelector(".name").textContent = label + (p.muted ? " · muted" : "");
    li.querySelector(".initials").textContent = initials(p.name);
    li.setAttribute("aria-label", `${label}${p.muted ? ", muted" : ""}`);
    const video = li.querySelector("video");
    const stream = p.self ? state.stream : state.streams.get(p.id);
    if (video.srcObject !== (stream || null)) video.srcObject = stream || null;
    li.classList.toggle("has-video", !!stream && stream.getVideoTracks().length > 0 && !(p.self && state.cameraOff));
  }
  for (const li of [...list.children]) if (!keep.has(li.dataset.id)) li.remove();
  highlight();
}

function highlight() {
  for (const li of $("tiles").children) {
    const on = li.dataset.id === state.speaker;
    li.classList.toggle("speaker", on);
    if (on) li.setAttribute("aria-current", "true"); else li.removeAttribute("aria-current");
  }
}

// ---- Controls

function toggleMute() {
  state.muted = !state.muted;
  state.stream?.getAudioTracks().forEach((t) => { t.enabled = !state.muted; });
  $("mute").setAttribute("aria-pressed", String(state.muted));
  $("mute").textContent = state.muted ? "Unmute" : "Mute";
  send({ type: "mute", audio: state.muted, video: state.cameraOff });
}

function toggleCamera() {
  state.cameraOff = !state.cameraOff;
  state.stream?.getVideoTracks().forEach((t) => { t.enabled = !state.cameraOff; });
  $("camera-off").setAttribute("aria-pressed", String(state.cameraOff));
  $("camera-off").textContent = state.cameraOff ? "Start camera" : "Stop camera";
  send({ type: "mute", audio: state.muted, video: state.cameraOff });
  renderTiles();
}

function leave() {
  state.leaving = true;
  send({ type: "leave" });
  state.ws?.close();
  backToLobby("");
  showLobbyError("");
  setStatus("");
}

document.addEventListener("DOMContentLoaded", () => {
  $("name").value = localStorage.getItem("bifrost.name") || "";
  $("join-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const name = $("name").value.trim();
    const pin = $("pin").value.trim();
    if (!name) { showLobbyError("Type your name, so that the others know who you are."); $("name").focus(); return; }
    if (pin && !/^[0-9]+$/.test(pin)) { showLobbyError("A PIN has digits only."); $("pin").focus(); return; }
    localStorage.setItem("bifrost.name", name);
    state.name = name;
    state.pin = pin;
    state.retries = 0;
    showLobbyError("");
    $("join").disabled = true;
    join();
  });
  $("camera").addEventListener("change", openDevices);
  $("mic").addEventListener("change", openDevices);
  $("mute").addEventListener("click", toggleMute);
  $("camera-off").addEventListener("click", toggleCamera);
  $("leave").addEventListener("click", leave);
  if (!navigator.mediaDevices?.getUserMedia) {
    showLobbyError("This page needs a secure connection (https) to use your camera and microphone.");
    return;
  }
  openDevices();
});
