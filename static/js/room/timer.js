// The session timer: counts the agreed minutes from the moment both people were first connected,
// warns at 5 minutes and 1 minute left, then shows the overtime. It never ends the call.

function clock(totalSeconds) {
  const seconds = Math.abs(Math.trunc(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const mm = String(m).padStart(h ? 2 : 1, "0");
  return `${h ? `${h}:` : ""}${mm}:${String(s).padStart(2, "0")}`;
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
    if (!this.state || !this.state.started_at) return null;
    const elapsed = (Date.now() + this.offsetMs - Date.parse(this.state.started_at)) / 1000;
    return this.state.total_minutes * 60 - elapsed;
  }

  render() {
    if (!this.state) return;
    const total = this.state.total_minutes;
    this.display.dataset.totalMinutes = String(total);
    const remaining = this.remainingSeconds();
    if (remaining === null) {
      this.display.textContent = `${clock(total * 60)} agreed`;
      this.display.dataset.phase = "not-started";
      this.display.title = "The timer starts when you are both connected.";
      return;
    }
    this.display.title = "";
    if (remaining >= 0) {
      this.display.textContent = `${clock(remaining)} left`;
      this.display.dataset.phase = remaining <= 60 ? "last-minute" : remaining <= 300 ? "last-five" : "running";
    } else {
      this.display.textContent = `Overtime +${clock(-remaining)}`;
      this.display.dataset.phase = "overtime";
    }
    // Each warning once; after a reload only the one that applies now.
    if (remaining <= 0) {
      this.warn("over", "The agreed time is up. The call goes on until you hang up; the timer shows the overtime.");
    } else if (remaining <= 60) {
      this.warn("one", "1 minute left of the agreed time.");
    } else if (remaining <= 300) {
      this.warn("five", "5 minutes left of the agreed time.");
    }
  }

  warn(key, text) {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.note.textContent = text;
  }
}
