// The safety code: a short number derived from both browsers' DTLS certificate fingerprints and the
// room. Anyone relaying the call in between would have their own certificate, so the two people
// would see different codes: reading it aloud to each other proves nobody sits in between.

function fingerprint(sdp) {
  const match = /^a=fingerprint:(\S+) (\S+)/m.exec(sdp || "");
  return match ? `${match[1].toLowerCase()} ${match[2].toUpperCase()}` : null;
}

export async function safetyCode({ localSdp, remoteSdp, room }) {
  const mine = fingerprint(localSdp);
  const theirs = fingerprint(remoteSdp);
  if (!mine || !theirs) return null;
  const [first, second] = [mine, theirs].sort(); // the same order on both sides
  const data = new TextEncoder().encode(`interkanect-safety-code-v1\n${room}\n${first}\n${second}`);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  let value = 0n;
  for (const byte of digest.slice(0, 8)) value = (value << 8n) | BigInt(byte);
  const digits = (value % 10n ** 12n).toString().padStart(12, "0");
  return digits.match(/.{4}/g).join(" "); // 12 digits, read in groups of four
}
