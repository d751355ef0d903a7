// Camera and microphone: asking for them, saying clearly what to do when that fails, switching
// devices, muting, and sharing the screen. The call goes on with whatever is available.

export class LocalMedia {
  constructor({ preview, onmessage }) {
    this.preview = preview;
    this.onmessage = onmessage; // (text) => shown to the person
    this.stream = new MediaStream();
    this.cameraTrack = null;
    this.screenTrack = null;
    this.audioEnabled = true;
    this.videoEnabled = true;
    this.ontrackchange = () => {}; // (kind, track) => the call swaps what it sends
  }

  get audioTrack() {
    return this.stream.getAudioTracks()[0] || null;
  }

  get videoTrack() {
    return this.screenTrack || this.cameraTrack;
  }

  // Camera and microphone if possible; otherwise audio only; otherwise receive only.
  async start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      this.onmessage("This browser cannot use a camera or microphone here. You can still see and hear the other person.");
      return;
    }
    try {
      this.use(await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720 } }));
      return;
    } catch (error) {
      if (error.name === "NotAllowedError" || error.name === "SecurityError") {
        this.onmessage(
          "Camera and microphone are blocked for this site. Allow them in your browser's address bar and reload " +
            "the page; until then you can see and hear the other person, but they cannot see or hear you.",
        );
        return;
      }
      if (error.name === "NotReadableError") {
        this.onmessage("Your camera or microphone is in use by another application. Close it and reload this page.");
      }
    }
    try {
      this.use(await navigator.mediaDevices.getUserMedia({ audio: true }));
      this.onmessage("No camera found: you are on audio only. The other person can hear you.");
    } catch {
      this.onmessage(
        "No camera or microphone found. You can see and hear the other person; connect a microphone and reload " +
          "the page so they can hear you.",
      );
    }
  }

  use(stream) {
    for (const track of stream.getTracks()) this.setTrack(track.kind, track);
  }

  setTrack(kind, track) {
    const old = kind === "audio" ? this.audioTrack : this.cameraTrack;
    if (old) {
      this.stream.removeTrack(old);
      old.stop();
    }
    if (kind === "audio") {
      track.enabled = this.audioEnabled;
      this.stream.addTrack(track);
    } else {
      track.enabled = this.videoEnabled;
      this.cameraTrack = track;
      if (!this.screenTrack) this.stream.addTrack(track);
    }
    this.showPreview();
    if (kind === "audio" || !this.screenTrack) this.ontrackchange(kind, track);
  }

  showPreview() {
    // Video only: the preview is muted anyway, and one's own voice must never play back.
    this.preview.srcObject = this.videoTrack ? new MediaStream([this.videoTrack]) : null;
  }

  async devices() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return [];
    return navigator.mediaDevices.enumerateDevices();
  }

  async choose(kind, deviceId) {
    try {
      const constraints = kind === "audio" ? { audio: { deviceId: { exact: deviceId } } } : { video: { deviceId: { exact: deviceId } } };
      const stream = await navigator.mediaDevices.getUserMedia(constraints);
      this.setTrack(kind, stream.getTracks()[0]);
      return true;
    } catch {
      this.onmessage("That device could not be opened. Check that it is connected and not used by another application.");
      return false;
    }
  }

  toggleAudio() {
    this.audioEnabled = !this.audioEnabled;
    if (this.audioTrack) this.audioTrack.enabled = this.audioEnabled;
    return this.audioEnabled;
  }

  toggleVideo() {
    this.videoEnabled = !this.videoEnabled;
    if (this.cameraTrack) this.cameraTrack.enabled = this.videoEnabled;
    return this.videoEnabled;
  }

  get canShareScreen() {
    return Boolean(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia);
  }

  async startScreenShare() {
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch (error) {
      if (error.name !== "NotAllowedError") this.onmessage("Screen sharing could not start in this browser.");
      return false;
    }
    this.screenTrack = stream.getVideoTracks()[0];
    // Stopping from the browser's own "Stop sharing" bar switches back to the camera too.
    this.screenTrack.addEventListener("ended", () => this.stopScreenShare());
    if (this.cameraTrack) this.stream.removeTrack(this.cameraTrack);
    this.stream.addTrack(this.screenTrack);
    this.showPreview();
    this.ontrackchange("video", this.screenTrack);
    this.onscreenchange?.(true);
    return true;
  }

  stopScreenShare() {
    if (!this.screenTrack) return;
    this.stream.removeTrack(this.screenTrack);
    this.screenTrack.stop();
    this.screenTrack = null;
    if (this.cameraTrack) this.stream.addTrack(this.cameraTrack);
    this.showPreview();
    this.ontrackchange("video", this.cameraTrack);
    this.onscreenchange?.(false);
  }

  stop() {
    for (const track of [...this.stream.getTracks(), this.cameraTrack, this.screenTrack]) if (track) track.stop();
  }
}
