// The room page: wires the relay, the call, the whiteboard, the chat and the timer to the page, and
// keeps DESIGN.md's state contract: <body data-call-state="waiting|connecting|connected|reconnecting|ended">.

import { Call } from "./call.js";
import { Chat } from "./chat.js";
import { ReplicatedLog } from "./log.js";
import { LocalMedia } from "./media.js";
import { Signaling } from "./signaling.js";
import { SessionTimer } from "./timer.js";
import { Whiteboard } from "./whiteboard.js";

const $ = (id) => document.getElementById(id);
const root = $("room");
const role = root.dataset.role;
const peerName = root.dataset.peerName;
const room = root.dataset.token;
// Close codes and limits, from the Python that owns them (signaling/views.py ROOM_CONTRACT).
const contract = JSON.parse($("room-contract").textContent);

const status = $("call-status");
const alertBox = $("room-alert");
let everConnected = false;
let ended = false;
let peerSaidBye = false; // a "bye" is followed by the server's "peer-left": keep saying they left

function say(text) {
  alertBox.textContent = text;
  alertBox.hidden = !text;
}

const STATUS_TEXT = {
  waiting: () => `Waiting for ${peerName} to join. Keep this page open.`,
  connecting: () => `Connecting to ${peerName}…`,
  connected: () => `Connected with ${peerName}.`,
  reconnecting: () => `The connection to ${peerName} was interrupted. Reconnecting…`,
};

function setState(state, text) {
  if (ended) return;
  if (state === "connected") everConnected = true;
  document.body.dataset.callState = state;
  status.textContent = text || STATUS_TEXT[state]();
}

// --- Timer ---
const timer = new SessionTimer({ display: $("session-timer"), note: $("timer-note") });

// --- Whiteboard and chat: each on its own data channel, each a replicated log ---
const boardLog = new ReplicatedLog();
const chatLog = new ReplicatedLog();
const board = new Whiteboard({ canvas: $("whiteboard"), overlay: $("whiteboard-overlay"), log: boardLog, peerLabel: peerName });
boardLog.onop = (op) => board.changed(op);
board.onchange = () => {
  $("board-undo").disabled = !board.state().visible.some((op) => op.a === boardLog.me);
};
new Chat({ log: chatLog, list: $("chat-log"), form: $("chat-form"), input: $("chat-input"), role, peerName });
// Now and then each side says what it has, so anything missed is sent again.
setInterval(() => {
  boardLog.sayHave();
  chatLog.sayHave();
}, 15000);

// --- Camera and microphone ---
const media = new LocalMedia({ preview: $("local-video"), onmessage: say });

// --- The relay and the call ---
let frameHandler = onFrame; // until the start below: frames wait for the camera and microphone
const scheme = location.protocol === "https:" ? "wss" : "ws";
const signaling = new Signaling({
  url: `${scheme}://${location.host}${root.dataset.wsPath}`,
  finalCodes: contract.final_close_codes,
  onframe: (frame) => frameHandler(frame),
  onopen: () => {},
  retryAfterMs: contract.retry_after_ms,
  ondrop: (reason) =>
    setState(everConnected ? "reconnecting" : "waiting", reason || "Connection to the server lost. Reconnecting…"),
  onfinal: (code, reason) => finish(reason || "You left the room.", code === contract.close.ended ? "dashboard" : "rejoin"),
});
const call = new Call({
  role,
  room,
  media,
  remoteVideo: $("remote-video"),
  send: (frame) => signaling.send(frame),
  boardLog,
  chatLog,
  events: {
    onstate: (state) => setState(state === "connecting" && everConnected ? "reconnecting" : state),
    onroute: showRoute,
    onsafety: (code) => {
      $("safety-code").textContent = code;
    },
    onautoplayblocked: () => {
      $("play-remote").hidden = false;
    },
    onfirstframe: () => {
      performance.mark("room:first-remote-frame");
      $("remote-video").closest("figure").dataset.receiving = "true";
    },
  },
});

function onFrame(frame) {
  switch (frame.type) {
    case "welcome":
      performance.mark("room:welcome");
      call.configure({ iceServers: frame.ice_servers, iceTransportPolicy: frame.ice_transport_policy });
      timer.update(frame.timer);
      showAgreed(frame.timer.total_minutes);
      showPendingExtension(frame.timer.pending_extension_minutes);
      if (frame.peer_present) call.fresh({ offerer: true });
      else {
        call.close();
        setState(everConnected ? "reconnecting" : "waiting");
      }
      break;
    case "peer-joined":
      peerSaidBye = false;
      call.fresh({ offerer: false });
      break;
    case "peer-left":
      call.close();
      board.peerGone();
      if (peerSaidBye) break;
      setState(everConnected ? "reconnecting" : "waiting", `${peerName} lost the connection. Waiting for them to come back…`);
      break;
    case "bye":
      peerSaidBye = true;
      call.handle(frame);
      board.peerGone();
      setState("waiting", `${peerName} left the call. They can come back with the same link.`);
      break;
    case "offer":
    case "answer":
    case "candidate":
    case "restart":
      call.handle(frame);
      break;
    case "timer":
      timer.update(frame);
      showAgreed(frame.total_minutes);
      break;
    case "extension":
      showExtension(frame);
      break;
    case "ended":
      // Only the SME can end it: they read it in the first person, the client reads who did.
      finish(role === "sme" ? "You ended the consultation. Thank you!" : `${peerName} ended the consultation. Thank you!`, "dashboard", "The consultation has ended.");
      break;
    case "replaced":
      finish(frame.message, "rejoin");
      break;
    case "error":
      say(frame.message);
      break;
  }
}

// The header's "agreed time" follows accepted extensions, as the timer does.
function showAgreed(totalMinutes) {
  if (Number.isInteger(totalMinutes)) $("agreed-time").textContent = `agreed time ${totalMinutes} minutes`;
}

function finish(message, next, statusText) {
  if (ended) return;
  // The panel says it in full; the status line above need not repeat it word for word.
  setState("ended", statusText || message);
  ended = true;
  call.close();
  media.stop();
  signaling.leave();
  say("");
  $("ended-message").textContent = message;
  $("rejoin").hidden = next !== "rejoin";
  $("ended-panel").hidden = false;
  $("ended-panel").focus();
}

function showRoute(route) {
  const badge = $("route-badge");
  if (!route) {
    delete badge.dataset.route;
    badge.textContent = "Not connected";
    badge.className = "badge";
    return;
  }
  const { local, remote } = route;
  const relayed = local === "relay" || remote === "relay";
  badge.dataset.route = relayed ? "relay" : "direct";
  badge.dataset.localCandidate = local;
  badge.dataset.remoteCandidate = remote;
  badge.textContent = relayed ? "Relayed through a TURN server (still encrypted)" : "Direct connection";
  badge.className = `badge ${relayed ? "warn" : "ok"}`;
}

// --- Controls ---
$("play-remote").addEventListener("click", () => {
  $("remote-video")
    .play()
    .then(() => {
      $("play-remote").hidden = true;
    })
    .catch(() => {});
});
function pressed(button, on) {
  button.setAttribute("aria-pressed", on ? "true" : "false");
}

$("mic-toggle").addEventListener("click", (event) => pressed(event.currentTarget, !media.toggleAudio()));
$("camera-toggle").addEventListener("click", (event) => pressed(event.currentTarget, !media.toggleVideo()));
const screenButton = $("screen-toggle");
if (media.canShareScreen) {
  media.onscreenchange = (on) => pressed(screenButton, on);
  screenButton.addEventListener("click", () => (media.screenTrack ? media.stopScreenShare() : media.startScreenShare()));
} else {
  screenButton.hidden = true;
}
$("hangup").addEventListener("click", () => {
  signaling.send({ type: "bye" });
  finish("You left the call. Your whiteboard and chat are gone from this page; the other person still has them.", "rejoin");
});
const endButton = $("end-consultation");
if (endButton) {
  endButton.addEventListener("click", () => {
    if (window.confirm("End the consultation for both of you? It cannot be reopened.")) signaling.send({ type: "end" });
  });
}

async function fillDevices() {
  const devices = await media.devices();
  for (const [kind, select, current] of [
    ["videoinput", $("camera-select"), media.cameraTrack],
    ["audioinput", $("mic-select"), media.audioTrack],
  ]) {
    const currentId = current && current.getSettings ? current.getSettings().deviceId : "";
    select.replaceChildren();
    const found = devices.filter((device) => device.kind === kind && device.deviceId);
    found.forEach((device, index) => {
      const option = new Option(device.label || `${kind === "videoinput" ? "Camera" : "Microphone"} ${index + 1}`, device.deviceId);
      option.selected = device.deviceId === currentId;
      select.append(option);
    });
    select.disabled = found.length === 0;
    if (!found.length) select.append(new Option(kind === "videoinput" ? "No camera found" : "No microphone found", ""));
  }
}
$("camera-select").addEventListener("change", (event) => media.choose("video", event.target.value));
$("mic-select").addEventListener("change", (event) => media.choose("audio", event.target.value));
if (navigator.mediaDevices) navigator.mediaDevices.addEventListener("devicechange", fillDevices);

// --- Whiteboard tools ---
for (const input of document.querySelectorAll("input[name=pen-color]")) {
  input.addEventListener("change", () => {
    board.color = input.value;
    board.eraser = false;
    pressed($("board-eraser"), false);
  });
}
$("board-width").addEventListener("change", (event) => {
  board.width = Number(event.target.value);
});
$("board-eraser").addEventListener("click", (event) => {
  board.eraser = !board.eraser;
  pressed(event.currentTarget, board.eraser);
});
$("board-undo").addEventListener("click", () => board.undo());
$("board-clear").addEventListener("click", () => {
  if (window.confirm("Clear the whiteboard for both of you?")) board.clear();
});
$("board-export").addEventListener("click", async () => {
  const blob = await board.exportPng();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = "whiteboard.png";
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
});
$("whiteboard-panel").addEventListener("keydown", (event) => {
  if ((event.ctrlKey || event.metaKey) && event.key === "z") {
    event.preventDefault();
    board.undo();
  }
});

// --- Extra time ---
const extendForm = $("extend-form");
const extendStatus = $("extend-status");
function showPendingExtension(minutes) {
  if (minutes) showExtension({ state: "proposed", minutes });
}
function showExtension({ state, minutes }) {
  if (role === "sme") {
    extendForm.querySelector("button").disabled = state === "proposed";
    extendStatus.textContent = {
      proposed: `Waiting for your client to accept ${minutes} more minutes…`,
      accepted: `Your client accepted: ${minutes} minutes added.`,
      declined: `Your client declined the ${minutes} extra minutes.`,
    }[state];
  } else {
    $("extend-offer").hidden = state !== "proposed";
    $("extend-offer-text").textContent = `${peerName} proposes ${minutes} more minutes.`;
    extendStatus.textContent = {
      proposed: "",
      accepted: `${minutes} minutes added to the agreed time.`,
      declined: `You declined the ${minutes} extra minutes.`,
    }[state];
  }
}
if (extendForm) {
  extendForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const minutes = Number($("extend-minutes").value);
    const { min, max } = contract.extension_minutes;
    if (!Number.isInteger(minutes) || minutes < min || minutes > max) {
      extendStatus.textContent = `Propose between ${min} and ${max} extra minutes.`;
      return;
    }
    signaling.send({ type: "extend-propose", minutes });
  });
}
if ($("extend-accept")) {
  $("extend-accept").addEventListener("click", () => signaling.send({ type: "extend-answer", accept: true }));
  $("extend-decline").addEventListener("click", () => signaling.send({ type: "extend-answer", accept: false }));
}

// --- Start: camera, microphone and the room at once ---
// The socket's handshake and admission overlap getUserMedia (and the certificate); frames wait for the
// media (so the first offer carries it) and are then handled in the order they came.
const starting = "Starting your camera and microphone…";
setState("waiting", starting);
const mediaReady = Promise.all([media.start(), call.prepare()]).then(() => {
  fillDevices();
  // The server may have spoken while the camera started (a refusal, a drop): its words stay on the page.
  if (status.textContent === starting) setState("waiting", "Joining the room…");
});
frameHandler = (frame) => mediaReady.then(() => onFrame(frame));
signaling.connect();
