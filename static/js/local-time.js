// Shows each <time data-local-time datetime="…Z"> in the viewer's own time zone (the server writes UTC).
const format = new Intl.DateTimeFormat(undefined, {
  weekday: "short", day: "numeric", month: "short", year: "numeric",
  hour: "2-digit", minute: "2-digit", timeZoneName: "short",
});

for (const el of document.querySelectorAll("time[data-local-time]")) {
  const moment = new Date(el.getAttribute("datetime"));
  if (Number.isNaN(moment.getTime())) continue;
  el.title = el.textContent; // the UTC time stays at hand
  el.textContent = format.format(moment);
}
