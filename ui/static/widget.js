/*
 * The framed chat page of the embeddable widget (/widget). Streams answers from
 * POST api/ask/stream (Server-Sent Events: "token" events, then one "answer" event with the
 * full answer object), shows inline citation markers and an expandable Sources list, and sends
 * thumbs up/down to api/feedback. Every piece of document text or model output is inserted with
 * textContent, never as HTML.
 */
(function () {
  "use strict";
  var params = new URLSearchParams(location.hash.slice(1));
  var apiKey = params.get("key") || "";
  var color = params.get("color");
  if (color && CSS.supports("color", color)) document.documentElement.style.setProperty("--primary", color);
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);  // hide the key

  var log = document.getElementById("log");
  var form = document.getElementById("ask");
  var input = document.getElementById("question");
  var send = document.getElementById("send");
  var turns = [];  // [{role, content}] sent as history
  var busy = false;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function headers() {
    var h = { "Content-Type": "application/json", "Accept": "text/event-stream" };
    if (apiKey) h["Authorization"] = "Bearer " + apiKey;
    return h;
  }
  function scroll() { log.scrollTop = log.scrollHeight; }

  // "... smartphone. [1]" -> text nodes with clickable citation markers
  function renderAnswerText(target, text, sources) {
    target.textContent = "";
    var parts = text.split(/\[(\d+)\]/);
    for (var i = 0; i < parts.length; i++) {
      if (i % 2 === 0) { if (parts[i]) target.appendChild(document.createTextNode(parts[i])); continue; }
      var n = parseInt(parts[i], 10);
      var marker = el("button", "cite", String(n));
      marker.type = "button";
      marker.setAttribute("aria-label", "Source " + n);
      marker.setAttribute("data-testid", "citation-marker");
      marker.addEventListener("click", showSource.bind(null, sources, n));
      target.appendChild(marker);
    }
  }
  function showSource(sources, n) {
    if (!sources) return;
    sources.open = true;
    var item = sources.querySelectorAll("li")[n - 1];
    if (!item) return;
    item.classList.add("flash");
    item.scrollIntoView({ block: "nearest" });
    setTimeout(function () { item.classList.remove("flash"); }, 1200);
  }

  function renderSources(citations) {
    var details = el("details", "sources");
    details.setAttribute("data-testid", "assistant-sources");
    details.appendChild(el("summary", "", "Sources (" + citations.length + ")"));
    var list = el("ol");
    citations.forEach(function (c) {
      var item = el("li");
      var where = (c.path && c.path.length ? c.path : [c.section]).join(" \u203a ");
      var path = el("span", "path", where);
      path.title = c.document || "";
      item.appendChild(path);
      item.appendChild(el("span", "quote", "\u201c" + c.quote + "\u201d"));
      list.appendChild(item);
    });
    details.appendChild(list);
    return details;
  }

  // A thumbs-up icon as inline SVG (emoji fonts are missing on many intranet desktops).
  var SVG = "http://www.w3.org/2000/svg";
  function thumb() {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS(SVG, "path");
    path.setAttribute("d", "M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 " +
      "6.6 7.6C6.2 7.9 6 8.4 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z");
    svg.appendChild(path);
    return svg;
  }

  function renderRating(question, answer) {
    var row = el("div", "rate");
    row.appendChild(el("span", "", "Helpful?"));
    var status = el("span", "");
    [["up", "Helpful"], ["down", "Not helpful"]].forEach(function (r) {
      var b = el("button", r[0]);
      b.appendChild(thumb());
      b.type = "button";
      b.setAttribute("aria-label", r[1]);
      b.setAttribute("aria-pressed", "false");
      b.setAttribute("data-testid", "feedback-" + r[0]);
      b.addEventListener("click", function () {
        row.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
        b.setAttribute("aria-pressed", "true");
        fetch("api/feedback", { method: "POST", headers: headers(), body: JSON.stringify(
          { question: question, answer: answer, rating: r[0], source: "widget" }) })
          .then(function (res) { status.textContent = res.ok ? "Thanks!" : "Not saved"; })
          .catch(function () { status.textContent = "Not saved"; });
      });
      row.appendChild(b);
    });
    row.appendChild(status);
    return row;
  }

  function finish(bubble, text, question, answer) {
    bubble.classList.remove("pending");
    if (answer.abstained) bubble.classList.add("abstained");
    bubble.setAttribute("data-testid", "assistant-answer");
    var sources = answer.citations && answer.citations.length ? renderSources(answer.citations) : null;
    renderAnswerText(text, answer.answer, sources);
    if (answer.not_answered && answer.not_answered.length && !answer.abstained) {
      var note = el("p", "not-answered", "Not in the document: " + answer.not_answered.map(function (p) {
        return "\u201c" + p + "\u201d"; }).join("; "));
      note.setAttribute("data-testid", "not-answered");
      bubble.appendChild(note);
    }
    if (answer.query && answer.query.trim() !== question.trim() && !answer.abstained) {
      // A follow-up is searched with words from the turns before it: say what was searched.
      var searched = el("p", "searched", "Searched for: \u201c" + answer.query + "\u201d");
      searched.setAttribute("data-testid", "searched-query");
      bubble.appendChild(searched);
    }
    if (sources) bubble.appendChild(sources);
    bubble.appendChild(renderRating(question, answer));
    turns.push({ role: "user", content: question }, { role: "assistant", content: answer.answer });
  }
  function fail(bubble, message) {
    bubble.className = "msg error";
    bubble.setAttribute("data-testid", "assistant-error");
    bubble.textContent = message;
  }

  // Read an SSE body from fetch(): blocks separated by a blank line, "event:" and "data:" lines.
  function readEvents(res, onEvent) {
    var reader = res.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) return;
        buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n/g, "\n");
        var blocks = buffer.split("\n\n");
        buffer = blocks.pop();
        blocks.forEach(function (block) {
          var event = "message", data = [];
          block.split("\n").forEach(function (line) {
            if (line.indexOf("event:") === 0) event = line.slice(6).trim();
            else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
          });
          if (data.length) onEvent(event, JSON.parse(data.join("\n")));
        });
        return pump();
      });
    }
    return pump();
  }

  function ask(question) {
    var hint = document.getElementById("hint");
    if (hint) hint.remove();
    log.appendChild(el("div", "msg user", question));
    var bubble = el("div", "msg bot pending");
    var text = el("span", "text");
    bubble.appendChild(text);
    log.appendChild(bubble);
    scroll();
    var done = false;
    return fetch("api/ask/stream", { method: "POST", headers: headers(),
      body: JSON.stringify({ question: question, history: turns }) })
      .then(function (res) {
        if (!res.ok) {
          return res.json().catch(function () { return {}; }).then(function (body) {
            done = true;
            fail(bubble, body.error || ("The assistant answered " + res.status + "."));
          });
        }
        return readEvents(res, function (event, data) {
          if (event === "token") { text.textContent += data.text; scroll(); }
          else if (event === "answer") { done = true; finish(bubble, text, question, data); scroll(); }
          else if (event === "error") { done = true; fail(bubble, data.error); }
        });
      })
      .catch(function () { done = true; fail(bubble, "Could not reach the assistant."); })
      .then(function () { if (!done) fail(bubble, "The answer was cut off; please ask again."); scroll(); });
  }

  function setBusy(value) { busy = value; send.disabled = value; }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var question = input.value.trim();
    if (!question || busy) return;
    input.value = "";
    setBusy(true);
    ask(question).then(function () { setBusy(false); input.focus(); });
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
    if (event.key === "Escape") parent.postMessage({ type: "assistant:close" }, "*");
  });
  input.focus();
  // Tells the host page the chat loaded: a frame the browser refused (this origin is not in
  // ASSISTANT_ALLOWED_ORIGINS) or could not load never says so, and the host page explains why.
  if (parent !== window) parent.postMessage({ type: "assistant:ready" }, "*");
})();
