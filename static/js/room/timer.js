// The session timer: counts the agreed minutes from the moment both people were first connected,
// warns at 5 minutes and 1 minute left, then shows the overtime. It never ends the call.

export function clock(totalSeconds) {
  const seconds = Math.abs(Math.trunc(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const mm = String(m).padStart(h ? 2 : 1, "0");
  return `${h ? `${h}:` : ""}${mm}:${String(s).padStart(2, "0")}`;
}

// Seconds left of the agreed time at nowMs (on the server's clock); null before the timer started.
export function remainingSeconds(state, nowMs) {
  if (!state || !state.started_at) return null;
  return state.total_minutes * 60 - (nowMs - Date.parse(state.started_at)) / 1000;
}

export function phase(remaining) {
  if (remaining === null) return "not-started";
  if (remaining < 0) return "overtime";
  return remaining <= 60 ? "last-minute" : remaining <= 300 ? "last-five" : "running";
}

// The warning that applies now ([key, text]), or null.
export function warning(remaining) {
  if (remaining === null) return null;
  if (remaining <= 0) return ["over", "The agreed time is up. The call goes on until you hang up; the timer shows the overtime."];
  if (remaining <= 60) return ["one", "1 minute left of the agreed time."];
  if (remaining <= 300) return ["five", "5 minutes left of the agreed time."];
  return null;
}

export class SessionTimer {
  constructor({ display, note }) {
    this.display = display; // #session-timer
    this.note = note; // a polite live region for the warnings
    this.state = null;
    this.offsetMs = 0;
    this.warned = new Set();
    setInterval(() => this.render(), 1000);
  }

  update(state) {
    const previousTotal = this.state ? this.state.total_minutes : null;
    this.state = state;
    // Measure elapsed time on the server's clock: the two browsers' clocks may disagree.
    this.offsetMs = Date.parse(state.server_time) - Date.now();
    if (previousTotal !== null && state.total_minutes !== previousTotal) this.warned.clear();
    this.render();
  }

  remainingSeconds() {
    return remainingSeconds(this.state, Date.now() + this.offsetMs);
  }

  render() {
    if (!this.state) return;
    const total = this.state.total_minutes;
    this.display.dataset.totalMinutes = String(total);
    const remaining = this.remainingSeconds();
    this.display.dataset.phase = phase(remaining);
    if (remaining === null) {
      this.display.textContent = `${clock(total * 60)} agreed`;
      this.display.title = "The timer starts when you are both connected.";
      return;
    }
    this.display.title = "";
    this.display.textContent = remaining >= 0 ? `${clock(remaining)} left` : `Overtime +${clock(-remaining)}`;
    // Each warning once; after a reload only the one that applies now.
    const due = warning(remaining);
    if (due) this.warn(...due);
  }

  warn(key, text) {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.note.textContent = text;
  }
}
