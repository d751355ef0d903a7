// The shared whiteboard: freehand pen, eraser, undo of one's own strokes, clear, the other person's
// pointer, export as PNG. Strokes are operations in a ReplicatedLog (see log.js); the canvas is always
// redrawn from the log in its agreed order, so both sides show the same drawing.

export const WIDTH = 1600; // logical size; the canvas scales to the screen
export const HEIGHT = 1000;
const MAX_POINTS = 4000; // a longer stroke is committed in pieces
const POINTER_INTERVAL_MS = 50;
export const KEY_STEP = 20; // how far an arrow key moves the keyboard pen (Shift: five times as far)

// What is on the board after these operations (in the log's agreed order): the visible strokes.
export function boardState(orderedOps) {
  const strokes = [];
  const undone = new Set();
  for (const op of orderedOps) {
    if (op.k === "stroke") strokes.push(op);
    else if (op.k === "undo") undone.add(op.target);
    else if (op.k === "clear") strokes.length = 0; // everything before it, in the agreed order
  }
  return { visible: strokes.filter((op) => !undone.has(`${op.a}:${op.s}`)) };
}

export class Whiteboard {
  constructor({ canvas, overlay, log, peerLabel }) {
    this.canvas = canvas;
    this.overlay = overlay;
    this.log = log;
    this.peerLabel = peerLabel;
    this.context = canvas.getContext("2d");
    this.overlayContext = overlay.getContext("2d");
    this.color = "#1c2733";
    this.width = 4;
    this.eraser = false;
    this.current = null; // the stroke being drawn here
    this.remoteInk = new Map(); // strokes the other person is drawing right now
    this.remotePointer = null;
    this.lastPointerSent = 0;
    this.pending = false;
    this.onchange = () => {};
    this.keyCursor = null; // where the keyboard pen is, while the board has the focus
    log.onephemeral = (message) => this.onEphemeral(message);
    this.bindPointer();
    this.bindKeyboard();
  }

  // --- Drawing here ---

  point(event) {
    const rect = this.canvas.getBoundingClientRect();
    const x = Math.round(((event.clientX - rect.left) / rect.width) * WIDTH);
    const y = Math.round(((event.clientY - rect.top) / rect.height) * HEIGHT);
    return [Math.max(0, Math.min(WIDTH, x)), Math.max(0, Math.min(HEIGHT, y))];
  }

  bindPointer() {
    const canvas = this.canvas;
    canvas.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      canvas.setPointerCapture(event.pointerId);
      this.current = {
        id: `${this.log.me}-${Date.now().toString(36)}`,
        color: this.color,
        w: this.width,
        e: this.eraser,
        p: this.point(event),
      };
      this.drawStroke(this.context, this.current);
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", (event) => {
      const [x, y] = this.point(event);
      this.sendPointer(x, y);
      if (!this.current) return;
      const points = this.current.p;
      const [lastX, lastY] = points.slice(-2);
      if (Math.abs(x - lastX) + Math.abs(y - lastY) < 2) return;
      points.push(x, y);
      this.drawSegment(this.context, this.current, lastX, lastY, x, y);
      this.log.sendEphemeral({ k: "ink", id: this.current.id, color: this.current.color, w: this.current.w, e: this.current.e, p: [lastX, lastY, x, y] });
      if (points.length >= MAX_POINTS) {
        this.commit();
        this.current = { ...this.current, id: `${this.current.id}+`, p: [x, y] };
      }
    });
    const finish = () => {
      if (this.current) this.commit();
      this.current = null;
    };
    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointercancel", finish);
    canvas.addEventListener("pointerleave", () => this.log.sendEphemeral({ k: "ptr", x: null }));
  }

  // The keyboard way to draw (WCAG 2.1.1): with the board focused, Space or Enter puts the pen down or lifts
  // it, the arrow keys move it (Shift: bigger steps), Escape lifts it. A stroke drawn so is an ordinary stroke.
  bindKeyboard() {
    const canvas = this.canvas;
    canvas.addEventListener("focus", () => {
      this.keyCursor = this.keyCursor || [WIDTH / 2, HEIGHT / 2];
      this.renderOverlay();
    });
    canvas.addEventListener("blur", () => {
      this.penUp();
      this.keyCursor = null;
      this.renderOverlay();
    });
    canvas.addEventListener("keydown", (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const step = event.shiftKey ? KEY_STEP * 5 : KEY_STEP;
      const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
      if (event.key === " " || event.key === "Enter") {
        if (this.current) this.penUp();
        else this.penDown(this.keyCursor || [WIDTH / 2, HEIGHT / 2]);
      } else if (event.key === "Escape") {
        this.penUp();
      } else if (moves[event.key]) {
        const [dx, dy] = moves[event.key];
        const [x, y] = this.keyCursor || [WIDTH / 2, HEIGHT / 2];
        this.moveTo([Math.max(0, Math.min(WIDTH, x + dx)), Math.max(0, Math.min(HEIGHT, y + dy))]);
      } else {
        return;
      }
      event.preventDefault();
      this.renderOverlay();
    });
  }

  penDown([x, y]) {
    this.current = { id: `${this.log.me}-${Date.now().toString(36)}`, color: this.color, w: this.width, e: this.eraser, p: [x, y] };
    this.drawStroke(this.context, this.current);
  }

  moveTo([x, y]) {
    this.keyCursor = [x, y];
    this.sendPointer(x, y);
    if (!this.current) return;
    const [lastX, lastY] = this.current.p.slice(-2);
    this.current.p.push(x, y);
    this.drawSegment(this.context, this.current, lastX, lastY, x, y);
    this.log.sendEphemeral({ k: "ink", id: this.current.id, color: this.current.color, w: this.current.w, e: this.current.e, p: [lastX, lastY, x, y] });
  }

  penUp() {
    if (this.current) this.commit();
    this.current = null;
  }

  commit() {
    const { id, color, w, e, p } = this.current;
    this.log.append({ k: "stroke", id, color, w, e, p });
  }

  sendPointer(x, y) {
    const now = performance.now();
    if (now - this.lastPointerSent < POINTER_INTERVAL_MS) return;
    this.lastPointerSent = now;
    this.log.sendEphemeral({ k: "ptr", x, y });
  }

  undo() {
    const state = this.state();
    const mine = state.visible.filter((op) => op.a === this.log.me);
    const last = mine[mine.length - 1];
    if (!last) return false;
    this.log.append({ k: "undo", target: `${last.a}:${last.s}` });
    return true;
  }

  clear() {
    this.log.append({ k: "clear" });
  }

  // --- What the log says is on the board ---

  state() {
    return boardState(this.log.ordered());
  }

  // Called for every new operation; redraws once per animation frame.
  changed(op) {
    if (op && op.k === "stroke") this.remoteInk.delete(op.id);
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
      this.onchange();
    });
  }

  render() {
    const context = this.context;
    context.clearRect(0, 0, WIDTH, HEIGHT);
    for (const stroke of this.state().visible) this.drawStroke(context, stroke);
    if (this.current) this.drawStroke(context, this.current);
    this.renderOverlay();
  }

  drawStroke(context, stroke) {
    const p = stroke.p;
    if (!Array.isArray(p) || p.length < 2) return;
    context.save();
    context.globalCompositeOperation = stroke.e ? "destination-out" : "source-over";
    context.strokeStyle = safeColor(stroke.color);
    context.fillStyle = context.strokeStyle;
    context.lineWidth = clampWidth(stroke.w);
    context.lineCap = "round";
    context.lineJoin = "round";
    context.beginPath();
    context.moveTo(p[0], p[1]);
    if (p.length === 2) {
      context.arc(p[0], p[1], context.lineWidth / 2, 0, Math.PI * 2);
      context.fill();
    } else {
      for (let i = 2; i + 1 < p.length; i += 2) context.lineTo(p[i], p[i + 1]);
      context.stroke();
    }
    context.restore();
  }

  drawSegment(context, stroke, x1, y1, x2, y2) {
    this.drawStroke(context, { ...stroke, p: [x1, y1, x2, y2] });
  }

  // --- What the other person is doing right now ---

  onEphemeral(message) {
    if (message.k === "ptr") {
      this.remotePointer = Number.isFinite(message.x) && Number.isFinite(message.y) ? [message.x, message.y] : null;
    } else if (message.k === "ink" && typeof message.id === "string" && Array.isArray(message.p)) {
      const ink = this.remoteInk.get(message.id) || { color: message.color, w: message.w, e: message.e, p: [] };
      ink.p.push(...message.p.slice(0, 4));
      this.remoteInk.set(message.id, ink);
      if (ink.p.length > 4 * MAX_POINTS) this.remoteInk.delete(message.id);
    }
    this.renderOverlay();
  }

  renderOverlay() {
    const context = this.overlayContext;
    context.clearRect(0, 0, WIDTH, HEIGHT);
    for (const ink of this.remoteInk.values()) {
      if (!ink.e) this.drawStroke(context, ink); // erasing shows once the stroke is finished
    }
    if (this.keyCursor) {
      // The keyboard pen: a ring (filled while the pen is down), so a keyboard user sees where they draw.
      const [x, y] = this.keyCursor;
      context.save();
      context.strokeStyle = "#1f5f8b";
      context.fillStyle = "rgba(31, 95, 139, 0.35)";
      context.lineWidth = 3;
      context.beginPath();
      context.arc(x, y, 12, 0, Math.PI * 2);
      if (this.current) context.fill();
      context.stroke();
      context.restore();
    }
    if (this.remotePointer) {
      const [x, y] = this.remotePointer;
      context.save();
      context.fillStyle = "rgba(179, 38, 30, 0.8)";
      context.beginPath();
      context.arc(x, y, 9, 0, Math.PI * 2);
      context.fill();
      context.font = "24px system-ui, sans-serif";
      context.fillText(this.peerLabel, x + 14, y + 8);
      context.restore();
    }
  }

  peerGone() {
    this.remoteInk.clear();
    this.remotePointer = null;
    this.renderOverlay();
  }

  // A PNG of the drawing on white (erased parts are transparent on the canvas itself).
  exportPng() {
    const flat = document.createElement("canvas");
    flat.width = WIDTH;
    flat.height = HEIGHT;
    const context = flat.getContext("2d");
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, WIDTH, HEIGHT);
    context.drawImage(this.canvas, 0, 0);
    return new Promise((resolve) => flat.toBlob(resolve, "image/png"));
  }
}

export function safeColor(color) {
  return typeof color === "string" && /^#[0-9a-f]{6}$/i.test(color) ? color : "#1c2733";
}

export function clampWidth(width) {
  return Number.isFinite(width) ? Math.max(1, Math.min(80, width)) : 4;
}
