// The peer connection: the "perfect negotiation" pattern, two pre-negotiated data channels (whiteboard
// and chat), ICE restart after a network drop, and what the page shows about the connection (direct or
// relayed, the safety code).
//
// Who offers: a fresh connection is made each time the other person (re)joins the room. The one who
// arrives offers; the one already there waits for that offer. Later renegotiations (ICE restarts) may
// come from either side: then the client is "polite" and yields on a collision, the SME is not.

import { safetyCode } from "./safety.js";

const BOARD_CHANNEL_ID = 0;
const CHAT_CHANNEL_ID = 1;
// After this long "disconnected", restart ICE; after this long failed, start a fresh connection.
const DISCONNECTED_GRACE_MS = 2500;
const FAILED_RESTART_MS = 8000;

export class Call {
  constructor({ role, room, media, remoteVideo, send, boardLog, chatLog, events }) {
    this.polite = role === "client";
    this.room = room;
    this.media = media;
    this.remoteVideo = remoteVideo;
    this.send = send; // (frame) => sends to the other browser through the relay
    this.boardLog = boardLog;
    this.chatLog = chatLog;
    this.events = events; // onstate(state), onroute(info), onsafety(code), onfirstframe(), onautoplayblocked()
    this.pc = null;
    this.config = { iceServers: [], iceTransportPolicy: "all" };
    this.certificate = null;
    this.queue = Promise.resolve();
    this.closed = new Promise((resolve) => { this.markClosed = resolve; }); // settles when this.pc is closed
    this.timers = [];
    media.ontrackchange = (kind, track) => this.replaceTrack(kind, track);
  }

  async prepare() {
    // One certificate for the whole page: the safety code stays the same across reconnections.
    try {
      this.certificate = await RTCPeerConnection.generateCertificate({ name: "ECDSA", namedCurve: "P-256" });
    } catch {
      this.certificate = null;
    }
  }

  configure({ iceServers, iceTransportPolicy }) {
    this.config = { iceServers: iceServers || [], iceTransportPolicy: iceTransportPolicy || "all" };
  }

  // A new connection for a new meeting of the two pages; the whiteboard and chat logs carry over.
  fresh({ offerer }) {
    this.close();
    const pc = new RTCPeerConnection({
      ...this.config,
      ...(this.certificate ? { certificates: [this.certificate] } : {}),
    });
    this.pc = pc;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.waitingForFirstOffer = !offerer;
    this.remoteStream = new MediaStream();
    this.remoteVideo.srcObject = null;
    this.sawFirstFrame = false;
    this.safetyShown = false;

    if (offerer) {
      for (const kind of ["audio", "video"]) {
        const track = kind === "audio" ? this.media.audioTrack : this.media.videoTrack;
        pc.addTransceiver(track || kind, { direction: "sendrecv", streams: [this.media.stream] });
      }
    }
    // Pre-negotiated channels (same id on both sides): DESIGN.md measured message loss on channels
    // announced in-band, and none on these.
    this.boardLog.attach(pc.createDataChannel("whiteboard", { negotiated: true, id: BOARD_CHANNEL_ID }));
    this.chatLog.attach(pc.createDataChannel("chat", { negotiated: true, id: CHAT_CHANNEL_ID }));

    pc.addEventListener("track", ({ track }) => {
      this.remoteStream.addTrack(track);
      // A new stream object each time: a video element does not always notice a track added to the
      // stream it already plays.
      this.remoteVideo.srcObject = new MediaStream(this.remoteStream.getTracks());
      if (track.kind === "video") this.watchFirstFrame();
      // Browsers may refuse to start sound without a click (no camera granted): the page offers a button.
      this.remoteVideo.play().catch((error) => error.name === "NotAllowedError" && this.events.onautoplayblocked());
    });
    pc.addEventListener("icecandidate", ({ candidate }) => {
      if (candidate && candidate.candidate) this.send({ type: "candidate", candidate: candidate.toJSON() });
    });
    pc.addEventListener("negotiationneeded", () => this.negotiate(pc));
    pc.addEventListener("connectionstatechange", () => this.onConnectionState(pc));
    this.events.onstate("connecting");
  }

  async negotiate(pc) {
    if (pc !== this.pc || this.waitingForFirstOffer) return;
    try {
      this.makingOffer = true;
      await pc.setLocalDescription();
      this.send({ type: "offer", sdp: pc.localDescription.sdp });
    } catch (error) {
      console.warn("Could not make an offer", error.name);
    } finally {
      this.makingOffer = false;
    }
  }

  // Frames relayed from the other browser, handled strictly one after the other. A step still waiting
  // on a connection that has been closed since is given up: a closed RTCPeerConnection may never settle
  // the promises it had pending (WebRTC's "abort these steps"), and every later frame, the next
  // connection's offer among them, would wait behind it for ever.
  handle(frame) {
    this.queue = this.queue.then(() => {
      const step = this.handleNow(frame).catch((error) => console.warn("Signaling step failed", error.name));
      return Promise.race([step, this.closed]);
    });
    return this.queue;
  }

  async handleNow(frame) {
    if (frame.type === "offer" || frame.type === "answer") {
      if (!this.pc) this.fresh({ offerer: false });
      const pc = this.pc;
      const collision = frame.type === "offer" && (this.makingOffer || pc.signalingState !== "stable");
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) return;
      if (frame.type === "answer" && pc.signalingState !== "have-local-offer") return; // a stale answer
      await pc.setRemoteDescription({ type: frame.type, sdp: frame.sdp });
      if (frame.type === "offer" && pc === this.pc) {
        if (this.waitingForFirstOffer) this.attachLocalTracks();
        this.waitingForFirstOffer = false;
        await pc.setLocalDescription();
        if (pc === this.pc) this.send({ type: "answer", sdp: pc.localDescription.sdp });
      }
    } else if (frame.type === "candidate") {
      if (!this.pc || !frame.candidate) return;
      try {
        await this.pc.addIceCandidate(frame.candidate);
      } catch (error) {
        if (!this.ignoreOffer) console.warn("Could not add a candidate", error.name);
      }
    } else if (frame.type === "restart") {
      // The other side gave up on the old connection and offers a fresh one.
      this.fresh({ offerer: false });
    } else if (frame.type === "bye") {
      this.close();
    }
  }

  // The waiting side sends on the transceivers the offer created.
  attachLocalTracks() {
    for (const transceiver of this.pc.getTransceivers()) {
      const kind = transceiver.receiver.track.kind;
      const track = kind === "audio" ? this.media.audioTrack : this.media.videoTrack;
      transceiver.direction = "sendrecv";
      if (track) transceiver.sender.replaceTrack(track);
      if (transceiver.sender.setStreams) transceiver.sender.setStreams(this.media.stream);
    }
  }

  replaceTrack(kind, track) {
    if (!this.pc) return;
    for (const transceiver of this.pc.getTransceivers()) {
      if (transceiver.receiver.track.kind === kind && transceiver.currentDirection !== "stopped") {
        transceiver.sender.replaceTrack(track).catch(() => {});
      }
    }
  }

  onConnectionState(pc) {
    if (pc !== this.pc) return;
    const state = pc.connectionState;
    this.clearTimers();
    if (state === "connected") {
      this.events.onstate("connected");
      this.showSafetyCode();
      this.updateRoute();
      this.timers.push(setInterval(() => this.updateRoute(), 5000));
    } else if (state === "disconnected") {
      this.events.onstate("reconnecting");
      this.timers.push(setTimeout(() => pc === this.pc && pc.restartIce(), DISCONNECTED_GRACE_MS));
    } else if (state === "failed") {
      this.events.onstate("reconnecting");
      pc.restartIce();
      // Still failed a while later: the SME starts over with a fresh connection (one side only, so
      // the two do not keep replacing each other's).
      if (!this.polite) {
        this.timers.push(
          setTimeout(() => {
            if (pc === this.pc && pc.connectionState !== "connected") {
              this.send({ type: "restart" });
              this.fresh({ offerer: true });
            }
          }, FAILED_RESTART_MS),
        );
      }
    }
  }

  async showSafetyCode() {
    const pc = this.pc;
    const code = await safetyCode({
      localSdp: pc.currentLocalDescription && pc.currentLocalDescription.sdp,
      remoteSdp: pc.currentRemoteDescription && pc.currentRemoteDescription.sdp,
      room: this.room,
    });
    if (code && pc === this.pc) this.events.onsafety(code);
  }

  // Direct or through a TURN relay: from the candidate pair ICE selected.
  async updateRoute() {
    const pc = this.pc;
    if (!pc) return;
    const stats = await pc.getStats();
    let pair = null;
    stats.forEach((report) => {
      if (report.type === "transport" && report.selectedCandidatePairId) pair = stats.get(report.selectedCandidatePairId);
    });
    if (!pair) {
      stats.forEach((report) => {
        if (report.type === "candidate-pair" && report.nominated && report.state === "succeeded") pair = report;
      });
    }
    if (!pair || pc !== this.pc) return;
    const local = stats.get(pair.localCandidateId);
    const remote = stats.get(pair.remoteCandidateId);
    if (!local || !remote) return;
    this.events.onroute({ local: local.candidateType, remote: remote.candidateType });
  }

  watchFirstFrame() {
    const video = this.remoteVideo;
    const pc = this.pc;
    const seen = () => {
      if (pc !== this.pc || this.sawFirstFrame) return;
      this.sawFirstFrame = true;
      this.events.onfirstframe();
    };
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(seen);
    else video.addEventListener("loadeddata", seen, { once: true });
  }

  clearTimers() {
    for (const timer of this.timers) {
      clearTimeout(timer);
      clearInterval(timer);
    }
    this.timers = [];
  }

  close() {
    this.clearTimers();
    if (this.pc) {
      this.pc.close();
      this.pc = null;
      this.events.onroute(null);
      this.markClosed();
      this.closed = new Promise((resolve) => { this.markClosed = resolve; });
    }
    this.remoteVideo.srcObject = null;
  }
}
