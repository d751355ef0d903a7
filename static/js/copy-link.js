// One-click copy for join links: <button data-copy-target="input-id">, result announced in #copy-status.
const status = () => document.getElementById("copy-status");

function announce(text) {
  const el = status();
  if (el) el.textContent = text;
}

async function copy(input) {
  try {
    await navigator.clipboard.writeText(input.value);
    return true;
  } catch {
    // No clipboard permission (or an old browser): select the text so Ctrl+C / long-press still works.
    input.focus();
    input.select();
    return false;
  }
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy-target]");
  if (!button) return;
  const input = document.getElementById(button.dataset.copyTarget);
  if (!input) return;
  if (await copy(input)) {
    const label = button.textContent;
    button.textContent = "Copied";
    announce("Link copied. Paste it into your message to your client.");
    setTimeout(() => { button.textContent = label; }, 2000);
  } else {
    announce("Copying was blocked by the browser: the link is selected, press Ctrl+C (or ⌘C) to copy it.");
  }
});

// Clicking into a link field selects all of it, so a manual copy takes the whole link.
document.querySelectorAll("input[readonly][id]").forEach((input) => {
  if (document.querySelector(`[data-copy-target="${input.id}"]`)) {
    input.addEventListener("focus", () => input.select());
  }
});
