/* The qa chat: one file for both the chat page and the embeddable widget.
 *
 * On the chat page:   <script src="/widget.js" data-mode="page" defer></script>
 *                     mounts the chat inline into #qa-root.
 * On any other page:  <script src="http://HOST:PORT/widget.js" data-endpoint="http://HOST:PORT"
 *                             data-api-key="optional" defer></script>
 *                     adds a launcher button (bottom right) that opens the chat in a panel.
 *
 * Everything that comes from the server (answers, corpus text, error messages) is inserted
 * with textContent / createElement, never as HTML, so a document cannot inject markup.
 * Styles live in chat.css (loaded by the page, or linked inside the widget's shadow root)
 * so that the page works under a Content-Security-Policy with style-src 'self'.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var REQUEST_TIMEOUT_MS = 120000;
  var MAX_HISTORY = 3; // earlier turns sent with a question (the server takes at most 3)
  var MAX_QUESTION_CHARS = 2000; // the server's bound (qa/answer/assistant.py MAX_QUESTION_CHARS)
  var MAX_TURN_CHARS = 2000; // per earlier question (the server's bound)
  var MAX_ANSWER_CHARS = 4000; // per earlier answer (the server's bound; longer ones are cut)
  // Example questions: the brief's own (corpus/eu-nato-relationship.txt) while it is indexed,
  // else one for each of the first three titles of the index (see startersFor).
  var BRIEF_TITLE = "Hague Summit Series: The EU-NATO Relationship";
  var BRIEF_STARTERS = [
    "When was the latest joint declaration published?",
    "Why is information sharing between the EU and NATO problematic?",
    "Who wrote the ICDS brief on military mobility?",
  ];
  var MAX_STARTERS = 3;
  var MAX_TITLE_CHARS = 150;
  var idCounter = 0;

  /* Example questions that fit the index: the brief's own while it is indexed (each answered
   * from it), else "What does <title> say?" for the first three distinct titles, else none.
   * Asked of 3 CRS reports, their web pages and 3 White House pages (11 titles, brief included),
   * that form was answered from the titled document 11 times of 11; "What is <title> about?"
   * 10 (the DeFi report's refused). */
  function startersFor(docs) {
    var titles = [];
    docs.forEach(function (d) {
      var title = d && typeof d.title === "string" ? d.title.replace(/\s+/g, " ").trim() : "";
      if (title && title.length <= MAX_TITLE_CHARS && titles.indexOf(title) < 0) titles.push(title);
    });
    if (titles.indexOf(BRIEF_TITLE) >= 0) return BRIEF_STARTERS;
    return titles.slice(0, MAX_STARTERS).map(function (title) { return "What does " + title + " say?"; });
  }

  // ---------------------------------------------------------------- DOM helpers

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svgIcon(pathData, className) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    if (className) svg.setAttribute("class", className);
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", pathData);
    svg.appendChild(path);
    return svg;
  }

  var ICON_CHAT = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z";
  var ICON_CLOSE = "M6 6l12 12M18 6L6 18";
  var ICON_SEND = "M3 20l18-8L3 4v6l12 2-12 2z";

  function uid(prefix) {
    idCounter += 1;
    return "qa-" + prefix + "-" + idCounter;
  }

  // ---------------------------------------------------------------- API client

  function ApiError(message, status) {
    this.name = "ApiError";
    this.message = message;
    this.status = status;
  }
  ApiError.prototype = Object.create(Error.prototype);

  function readableDetail(body, status, statusText) {
    var detail = body && body.detail;
    if (typeof detail === "string" && detail) return detail;
    if (Array.isArray(detail) && detail.length) {
      return detail
        .map(function (item) {
          if (item && typeof item === "object") {
            var where = Array.isArray(item.loc) ? item.loc.filter(function (p) { return p !== "body"; }).join(".") : "";
            return (where ? where + ": " : "") + (item.msg || JSON.stringify(item));
          }
          return String(item);
        })
        .join("; ");
    }
    return "HTTP " + status + (statusText ? " " + statusText : "");
  }

  /* What to check when the server cannot be reached. From another site, the likely cause is
   * that the server does not accept this site's requests (CORS): name the option that does. */
  function unreachable(base) {
    var here = window.location.origin;
    var there = here;
    try { there = new URL(base || here, window.location.href).origin; } catch (e) { there = here; }
    if (there === here || !/^https?:/.test(here)) return "(is the server running?)";
    return "(is the server running? If it is, it does not accept requests from this site: start it with `qa serve --cors-origin " + here + "`)";
  }

  function makeClient(endpoint, apiKey) {
    var base = (endpoint || "").replace(/\/+$/, "");

    /* One request. With init.onDelta, the answer is asked for as server-sent events: onDelta(text)
     * is called for each piece as it comes, and the promise resolves with the whole answer. */
    function request(path, init) {
      init = init || {};
      var controller = typeof AbortController === "function" ? new AbortController() : null;
      var timer = controller ? setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;
      var headers = { Accept: init.onDelta ? "text/event-stream" : "application/json" };
      if (init.body) headers["Content-Type"] = "application/json";
      if (apiKey) headers.Authorization = "Bearer " + apiKey;
      return fetch(base + path, {
        method: init.method || "GET",
        headers: headers,
        body: init.body,
        mode: "cors",
        credentials: "omit",
        signal: controller ? controller.signal : undefined,
      })
        .catch(function (err) {
          var reason = err && err.name === "AbortError" ? "no answer after " + REQUEST_TIMEOUT_MS / 1000 + " s" : (err && err.message) || String(err);
          throw new ApiError("Could not reach the assistant: " + reason + " " + unreachable(base), 0);
        })
        .then(function (response) {
          var streamed = /text\/event-stream/.test(response.headers.get("Content-Type") || "");
          if (init.onDelta && response.ok && streamed) return readEvents(response, init.onDelta);
          return response.text().then(function (raw) {
            var body = null;
            try { body = raw ? JSON.parse(raw) : null; } catch (e) { body = null; }
            if (!response.ok) {
              var prefix = response.status >= 500 ? "The assistant failed" : "The assistant could not take this question";
              throw new ApiError(prefix + " (" + response.status + "): " + readableDetail(body, response.status, response.statusText), response.status);
            }
            if (body === null) throw new ApiError("The assistant sent a response that is not JSON.", response.status);
            return body;
          });
        })
        .finally(function () { if (timer) clearTimeout(timer); });
    }

    return {
      base: base,
      health: function () { return request("/health"); },
      /* POST /ask, streamed: onDelta(text) as the answer comes, then the whole answer. */
      askStream: function (question, history, onDelta) {
        var body = JSON.stringify({ question: question, top_k: 5, history: history || [], stream: true });
        return request("/ask", { method: "POST", body: body, onDelta: onDelta });
      },
    };
  }

  /* Reads server-sent events until the "answer" event (resolved) or an "error" event (thrown). */
  function readEvents(response, onDelta) {
    var decoder = new TextDecoder();
    var buffer = "";
    var result = null;

    function handle(block) {
      var name = "message";
      var data = [];
      block.split("\n").forEach(function (line) {
        if (line.indexOf("event:") === 0) name = line.slice(6).trim();
        else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
      });
      if (!data.length) return;
      var payload;
      try { payload = JSON.parse(data.join("\n")); } catch (e) { throw new ApiError("The assistant sent an event that is not JSON.", 200); }
      if (name === "delta" && payload && typeof payload.text === "string") onDelta(payload.text);
      else if (name === "answer") result = payload;
      else if (name === "error") {
        var status = payload && payload.status;
        throw new ApiError("The assistant failed" + (status ? " (" + status + ")" : "") + ": " + readableDetail(payload, status || 0, ""), status || 0);
      }
    }

    function drain(final) {
      var parts = buffer.split(/\r?\n\r?\n/);
      buffer = final ? "" : parts.pop();
      parts.forEach(function (part) { if (part.trim()) handle(part); });
    }

    function finish() {
      drain(true);
      if (!result) throw new ApiError("The answer stopped before it was complete.", 0);
      return result;
    }

    if (!response.body || typeof response.body.getReader !== "function") {
      return response.text().then(function (raw) { buffer = raw; return finish(); });
    }
    var reader = response.body.getReader();
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) return finish();
        buffer += decoder.decode(chunk.value, { stream: true });
        drain(false);
        return result ? result : pump();
      });
    }
    return pump();
  }

  // ---------------------------------------------------------------- formatting

  function passageLabel(citation) {
    var parts = [];
    if (citation.section) parts.push(citation.section);
    if (citation.paragraph !== undefined && citation.paragraph !== null) parts.push("¶" + citation.paragraph);
    return parts.join(" · ") || citation.source || "Passage";
  }

  /* The document a citation comes from: its title, and its file name too where another cited
   * document has the same title; the file name alone where it has no title. */
  function documentName(citation, citations) {
    var title = citation.title;
    if (!title) return citation.source || "Document";
    var clash = (citations || []).some(function (p) {
      var other = (p && p.citation) || {};
      return other.title === title && other.source !== citation.source;
    });
    return clash ? title + " (" + citation.source + ")" : title;
  }

  /* Where the quoted sentence and the short answer stand inside a passage, as [start, end) into
   * its text (the API gives offsets into the document; the passage starts at citation.start). */
  function passageMarks(passage, shortAnswer) {
    var c = passage.citation || {};
    var length = String(passage.text || "").length;
    function local(span) {
      if (!span || typeof span.start !== "number" || typeof span.end !== "number" || typeof c.start !== "number") return null;
      var a = span.start - c.start;
      var b = span.end - c.start;
      return a >= 0 && b <= length && a < b ? [a, b] : null;
    }
    return {
      sentence: local(passage.sentence),
      short: shortAnswer && shortAnswer.source === c.source ? local(shortAnswer) : null,
    };
  }

  /* A card's preview: from the cited sentence on, where the answer quotes one. */
  function preview(passage, max) {
    var text = String(passage.text || "");
    var at = passageMarks(passage, null).sentence;
    if (at && at[0] > 0) return "…" + snippet(text.slice(at[0]), max - 1);
    return snippet(text, max);
  }

  /* 1866 as "1,866", as the command line writes counts (Python's f"{n:,}"), whatever the locale. */
  function thousands(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  function snippet(text, max) {
    var flat = String(text || "").replace(/\s+/g, " ").trim();
    return flat.length > max ? flat.slice(0, max - 1).replace(/\s+\S*$/, "") + "…" : flat;
  }

  function formatDate(iso) {
    if (!iso) return "";
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
    if (!m) return iso;
    var d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
    try {
      return d.toLocaleDateString(undefined, { year: "numeric", month: "long", day: "numeric", timeZone: "UTC" });
    } catch (e) {
      return iso;
    }
  }

  // ---------------------------------------------------------------- the chat

  /* Builds the chat inside `root` (an element or a shadow root) and returns a small handle.
   * options: {endpoint: "http://host:port" or "" for same origin, apiKey, heading, onEscape} */
  function mountChat(root, options) {
    options = options || {};
    var client = makeClient(options.endpoint || "", options.apiKey || "");
    var busy = false;
    var history = []; // the turns answered so far, sent with each question so follow-ups resolve
    var opener = null; // the button that opened the passage panel, to return focus to

    var chat = el("section", "qa-chat");
    chat.setAttribute("aria-label", "Question answering over the documents");

    // header
    var header = el("header", "qa-header");
    var headerText = el("div", "qa-header-text");
    var title = el(options.headingLevel === 1 ? "h1" : "h2", "qa-title", options.heading || "Ask the documents");
    var corpusNote = el("p", "qa-corpus", "Connecting to the assistant…");
    headerText.appendChild(title);
    headerText.appendChild(corpusNote);
    header.appendChild(headerText);
    chat.appendChild(header);

    // body: conversation log + passage panel
    var body = el("div", "qa-body");
    var log = el("div", "qa-log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-label", "Conversation");
    log.tabIndex = 0;
    body.appendChild(log);

    var passagePanel = el("aside", "qa-passage");
    passagePanel.id = uid("passage");
    passagePanel.hidden = true;
    var passageTitleId = uid("passage-title");
    passagePanel.setAttribute("aria-labelledby", passageTitleId);
    body.appendChild(passagePanel);
    chat.appendChild(body);

    // composer
    var form = el("form", "qa-form");
    form.noValidate = true;
    var inputId = uid("question");
    var label = el("label", "qa-sr-only", "Your question");
    label.htmlFor = inputId;
    var input = el("textarea", "qa-input");
    input.id = inputId;
    input.rows = 1;
    input.placeholder = "Ask about the documents…";
    input.maxLength = MAX_QUESTION_CHARS;
    input.setAttribute("aria-describedby", inputId + "-hint " + inputId + "-count");
    var counter = el("p", "qa-count", "0 / " + MAX_QUESTION_CHARS);
    counter.id = inputId + "-count";
    var hint = el("p", "qa-sr-only", "Press Enter to send, Shift+Enter for a new line.");
    hint.id = inputId + "-hint";
    var send = el("button", "qa-send");
    send.type = "submit";
    send.appendChild(svgIcon(ICON_SEND, "qa-icon"));
    send.appendChild(el("span", "qa-send-label", "Send"));
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(send);
    form.appendChild(hint);
    form.appendChild(counter);
    chat.appendChild(form);

    root.appendChild(chat);

    // empty state with starter questions
    var empty = el("div", "qa-empty");
    empty.appendChild(el("p", "qa-empty-lead", "Ask a question and get an answer quoted from the documents, with its sources."));
    var startersLabelId = uid("starters");
    var startersLabel = empty.appendChild(el("p", "qa-empty-label", "Try one of these:"));
    startersLabel.id = startersLabelId;
    startersLabel.hidden = true; // until the index says which documents it holds
    var starterList = el("ul", "qa-starters");
    starterList.setAttribute("aria-labelledby", startersLabelId);
    empty.appendChild(starterList);
    log.appendChild(empty);

    function showStarters(questions) {
      questions.forEach(function (q) {
        var li = el("li");
        var b = el("button", "qa-starter", q);
        b.type = "button";
        b.addEventListener("click", function () { submit(q); });
        li.appendChild(b);
        starterList.appendChild(li);
      });
      startersLabel.hidden = !questions.length;
    }

    // ------------------------------------------------------------ conversation

    function scrollToEnd() {
      log.scrollTop = log.scrollHeight;
    }

    function addMessage(node) {
      if (empty.parentNode) empty.parentNode.removeChild(empty);
      log.appendChild(node);
      scrollToEnd();
      return node;
    }

    function userBubble(question) {
      var msg = el("div", "qa-msg qa-msg--user");
      msg.appendChild(el("p", "qa-sr-only", "You asked:"));
      msg.appendChild(el("p", "qa-msg-text", question));
      return msg;
    }

    function pendingBubble() {
      var msg = el("div", "qa-msg qa-msg--pending");
      var dots = el("span", "qa-dots");
      dots.setAttribute("aria-hidden", "true");
      dots.appendChild(el("span"));
      dots.appendChild(el("span"));
      dots.appendChild(el("span"));
      msg.appendChild(dots);
      msg.appendChild(el("span", "qa-pending-text", "Searching the documents…"));
      return msg;
    }

    function citeButton(passage, text, className, accessibleName, related, shortAnswer) {
      var b = el("button", className, text);
      b.type = "button";
      b.setAttribute("aria-label", accessibleName);
      b.setAttribute("aria-controls", passagePanel.id);
      b.setAttribute("aria-expanded", "false");
      b.addEventListener("click", function () { openPassage(passage, b, related, shortAnswer); });
      return b;
    }

    /* The answer text with each [n] that names a citation turned into a button. */
    /* Text with the short answer, where it occurs, marked (the reader's exact span). */
    function appendHighlighted(parent, text, shortText) {
      var at = shortText ? text.indexOf(shortText) : -1;
      if (at < 0) {
        parent.appendChild(document.createTextNode(text));
        return;
      }
      if (at > 0) parent.appendChild(document.createTextNode(text.slice(0, at)));
      parent.appendChild(el("mark", "qa-short", shortText));
      if (at + shortText.length < text.length) parent.appendChild(document.createTextNode(text.slice(at + shortText.length)));
    }

    /* A score and the threshold it fell below, to as few places (two at least) as tell them
     * apart: 0.068 and 0.070, never 0.07 and 0.07 (as qa/surfaces/render.py `apart`). */
    function apart(score, threshold) {
      var shown;
      for (var places = 2; places <= 6; places++) {
        shown = [score.toFixed(places), threshold.toFixed(places)];
        if (shown[0] !== shown[1]) break;
      }
      return shown;
    }

    /* Why a question was not answered: the calibrated score against its threshold, or that
     * the sentences that might answer state no time or figure (as qa/surfaces/render.py). */
    var STATES_NONE = {
      "no date stated": "The passages that might answer state no time, and the question asks when.",
      "no figure stated": "The passages that might answer state no figure, and the question asks for one."
    };
    function refusalReason(signals) {
      if (signals && Object.prototype.hasOwnProperty.call(STATES_NONE, signals.reason)) {
        return el("p", "qa-msg-why", STATES_NONE[signals.reason]);
      }
      if (!signals || typeof signals.answer_probability !== "number" || typeof signals.threshold !== "number") return null;
      var shown = apart(signals.answer_probability, signals.threshold);
      return el("p", "qa-msg-why", "Best answer score " + shown[0] + ", below the threshold of " + shown[1] + ".");
    }

    /* A near miss: the passages speak of another year or figure than the one asked. */
    function nearMissReason(miss) {
      var found = miss.found ? "; they state " + miss.found : "";
      return el("p", "qa-msg-why", "A near miss: the passages never state " + miss.asked + found + ".");
    }

    function answerText(answer, citations, related, shortAnswer) {
      var shortText = shortAnswer && typeof shortAnswer.text === "string" && shortAnswer.text ? shortAnswer.text : null;
      var byMarker = {};
      citations.forEach(function (c) {
        if (c && c.marker !== undefined && c.marker !== null) byMarker[String(c.marker)] = c;
      });
      var p = el("p", "qa-msg-text");
      var pieces = String(answer || "").split(/\[(\d+)\]/);
      for (var i = 0; i < pieces.length; i++) {
        if (i % 2 === 0) {
          if (pieces[i]) appendHighlighted(p, pieces[i], shortText);
          if (shortText && pieces[i].indexOf(shortText) >= 0) shortText = null; // once
          continue;
        }
        var passage = byMarker[pieces[i]];
        if (!passage) {
          p.appendChild(document.createTextNode("[" + pieces[i] + "]"));
          continue;
        }
        var c = passage.citation || {};
        var name = (related ? "Related passage " : "Source ") + pieces[i] + ": " + documentName(c, citations) + ", " + passageLabel(c);
        p.appendChild(citeButton(passage, pieces[i], "qa-cite", name, related, shortAnswer));
      }
      return p;
    }

    /* A link that opens the cited document at the cited place (GET /documents/...), or null. */
    function openLink(citation, className, docName) {
      if (typeof citation.url !== "string" || !/^\/documents\//.test(citation.url)) return null;
      var a = el("a", className, "Open in the document");
      a.href = client.base + citation.url;
      a.target = "_blank";
      a.rel = "noopener";
      a.setAttribute("aria-label", "Open " + docName + " at this passage (new tab)");
      return a;
    }

    /* "Also in X, Y": the other files that hold the same passage (a report saved as PDF and as
     * web page is one card), each a link that opens it there; null where no other file does. */
    function alsoIn(passage, className) {
      var places = Array.isArray(passage.also_in) ? passage.also_in : [];
      var seen = {};
      places = places.filter(function (p) {
        if (!p || typeof p.source !== "string" || seen[p.source]) return false;
        return (seen[p.source] = true);
      });
      if (!places.length) return null;
      var line = el("p", className, "Also in ");
      places.forEach(function (p, i) {
        if (i) line.appendChild(document.createTextNode(", "));
        var open = typeof p.url === "string" && /^\/documents\//.test(p.url);
        var name = el(open ? "a" : "span", "qa-also-file", p.source);
        if (open) {
          name.href = client.base + p.url;
          name.target = "_blank";
          name.rel = "noopener";
          name.setAttribute("aria-label", "Open " + p.source + " at the same passage (new tab)");
        }
        line.appendChild(name);
      });
      return line;
    }

    function sourceList(citations, heading, className, related, shortAnswer) {
      var box = el("div", className);
      var headingId = uid("sources");
      var h = el("p", "qa-sources-label", heading);
      h.id = headingId;
      box.appendChild(h);
      var list = el("ul", "qa-source-list");
      list.setAttribute("aria-labelledby", headingId);
      citations.forEach(function (passage) {
        var c = passage.citation || {};
        var li = el("li");
        var hasMarker = passage.marker !== undefined && passage.marker !== null;
        var docName = documentName(c, citations);
        var name = (related ? "Related passage" : "Source") + (hasMarker ? " " + passage.marker : "") + ": " + docName + ", " + passageLabel(c);
        var b = citeButton(passage, "", "qa-source", name, related, shortAnswer);
        if (hasMarker) b.appendChild(el("span", "qa-source-marker", passage.marker));
        var textBox = el("span", "qa-source-body");
        textBox.appendChild(el("span", "qa-source-doc", docName));
        textBox.appendChild(el("span", "qa-source-where", passageLabel(c)));
        textBox.appendChild(el("span", "qa-source-snippet", preview(passage, 110)));
        b.appendChild(textBox);
        li.appendChild(b);
        var link = openLink(c, "qa-source-open", docName);
        if (link) li.appendChild(link);
        var also = alsoIn(passage, "qa-source-also");
        if (also) li.appendChild(also);
        list.appendChild(li);
      });
      box.appendChild(list);
      return box;
    }

    function sameQuery(a, b) {
      var fold = function (t) { return String(t || "").toLowerCase().replace(/[\s?.!]+/g, " ").trim(); };
      return fold(a) === fold(b);
    }

    function answerBubble(result, question) {
      var citations = Array.isArray(result.citations) ? result.citations : [];
      var answerable = result.answerable !== false;
      var msg = el("article", "qa-msg " + (answerable ? "qa-msg--answer" : "qa-msg--refusal"));
      var label = answerable ? "Answer" : "Not answered by the documents";
      if (result.mode === "llm") label = "Answer written by a local model, every sentence checked";
      msg.appendChild(el("p", "qa-msg-label", label));
      if (result.query_used && !sameQuery(result.query_used, question)) {
        var used = el("p", "qa-query-used");
        used.appendChild(el("span", "qa-query-used-label", "Searched for: "));
        used.appendChild(el("span", "qa-query-used-text", result.query_used));
        msg.appendChild(used);
      }
      if (result.reading) msg.appendChild(el("p", "qa-reading", String(result.reading)));
      msg.appendChild(answerText(result.answer, citations, !answerable, answerable ? result.short_answer : null));
      var why = answerable ? null : result.near_miss ? nearMissReason(result.near_miss) : refusalReason(result.signals);
      if (why) msg.appendChild(why);
      var unsupported = (Array.isArray(result.sentences) ? result.sentences : []).filter(function (s) {
        return s && s.status === "unsupported";
      });
      if (unsupported.length) {
        var box = el("div", "qa-unsupported");
        box.appendChild(el("p", "qa-unsupported-label", "Not supported by the passages the model cited, so not part of the answer:"));
        var list = el("ul", "qa-unsupported-list");
        unsupported.forEach(function (s) { list.appendChild(el("li", "qa-unsupported-text", s.text)); });
        box.appendChild(list);
        msg.appendChild(box);
      }
      if (result.note) msg.appendChild(el("p", "qa-note", result.note));
      if (citations.length) {
        msg.appendChild(
          answerable
            ? sourceList(citations, citations.length === 1 ? "Source" : "Sources", "qa-sources", false, result.short_answer)
            : sourceList(citations, "Related reading", "qa-sources qa-sources--related", true)
        );
      }
      return msg;
    }

    function errorBubble(message, question) {
      var msg = el("div", "qa-msg qa-msg--error");
      msg.setAttribute("role", "alert");
      msg.appendChild(el("p", "qa-msg-label", "Error"));
      msg.appendChild(el("p", "qa-msg-text", message));
      if (question) {
        var retry = el("button", "qa-retry", "Try again");
        retry.type = "button";
        retry.addEventListener("click", function () {
          if (busy) return;
          msg.parentNode && msg.parentNode.removeChild(msg);
          ask(question, false);
        });
        msg.appendChild(retry);
      }
      return msg;
    }

    function setBusy(value) {
      busy = value;
      send.disabled = value;
      log.setAttribute("aria-busy", value ? "true" : "false");
      chat.classList.toggle("qa-chat--busy", value);
    }

    function streamingBubble() {
      var msg = el("article", "qa-msg qa-msg--answer qa-msg--streaming");
      msg.appendChild(el("p", "qa-msg-label", "Answer"));
      msg.appendChild(el("p", "qa-msg-text"));
      return msg;
    }

    function ask(question, echo) {
      if (echo) addMessage(userBubble(question));
      var pending = addMessage(pendingBubble());
      setBusy(true);
      function onDelta(text) {
        if (!pending.classList.contains("qa-msg--streaming")) {
          var live = streamingBubble();
          log.replaceChild(live, pending);
          pending = live;
        }
        pending.querySelector(".qa-msg-text").appendChild(document.createTextNode(text));
        scrollToEnd();
      }
      return client
        .askStream(question, history.slice(-MAX_HISTORY), onDelta)
        .then(
          function (result) {
            history.push({
              question: question.slice(0, MAX_TURN_CHARS),
              answer: String(result.answer || "").slice(0, MAX_ANSWER_CHARS),
              short_answer: String((result.short_answer && result.short_answer.text) || "").slice(0, MAX_TURN_CHARS),
            });
            // For the host page (and tests): every answer, as the JSON the API returned.
            chat.dispatchEvent(new CustomEvent("qa:answer", { detail: result, bubbles: true, composed: true }));
            return answerBubble(result, question);
          },
          function (err) { return errorBubble(err.message || String(err), question); }
        )
        .then(function (node) {
          log.replaceChild(node, pending);
          scrollToEnd();
        })
        .finally(function () { setBusy(false); });
    }

    function count() {
      var used = input.value.length;
      counter.textContent = used + " / " + MAX_QUESTION_CHARS;
      counter.classList.toggle("qa-count--full", used >= MAX_QUESTION_CHARS);
    }
    input.addEventListener("input", count);

    function submit(text) {
      var question = String(text || "").trim();
      if (!question || busy) return;
      input.value = "";
      count();
      ask(question, true);
      input.focus();
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      submit(input.value);
    });

    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit(input.value);
      }
    });

    // ------------------------------------------------------------ passage panel

    function metaRow(dl, term, value) {
      if (value === undefined || value === null || value === "") return;
      dl.appendChild(el("dt", null, term));
      dl.appendChild(el("dd", null, value));
    }

    /* Text with its endnote references ([n] that have an endnote) highlighted, into parent. */
    function appendWithRefs(parent, text, numbers) {
      text.split(/(\[\d+\])/).forEach(function (piece) {
        if (!piece) return;
        var m = /^\[(\d+)\]$/.exec(piece);
        if (m && numbers[m[1]]) parent.appendChild(el("span", "qa-endnote-ref", piece));
        else parent.appendChild(document.createTextNode(piece));
      });
    }

    /* The passage verbatim, the quoted sentence and the short answer marked inside it. */
    function passageText(text, notes, marks) {
      text = String(text || "");
      var numbers = {};
      notes.forEach(function (note) { numbers[String(note.number)] = true; });
      var cuts = [0, text.length];
      [marks.sentence, marks.short].forEach(function (r) { if (r) cuts.push(r[0], r[1]); });
      cuts.sort(function (a, b) { return a - b; });
      var fragment = document.createDocumentFragment();
      var sentence = null;
      for (var i = 0; i + 1 < cuts.length; i++) {
        var a = cuts[i];
        var b = cuts[i + 1];
        if (a >= b) continue;
        var target = fragment;
        if (marks.sentence && a >= marks.sentence[0] && b <= marks.sentence[1]) {
          if (!sentence) fragment.appendChild((sentence = el("mark", "qa-sentence")));
          target = sentence;
        }
        if (marks.short && a >= marks.short[0] && b <= marks.short[1]) {
          target = target.appendChild(el("mark", "qa-short"));
        }
        appendWithRefs(target, text.slice(a, b), numbers);
      }
      return fragment;
    }

    function openPassage(passage, button, related, shortAnswer) {
      var c = passage.citation || {};
      if (opener && opener !== button) opener.setAttribute("aria-expanded", "false");
      opener = button;
      button.setAttribute("aria-expanded", "true");
      passagePanel.textContent = "";

      var head = el("div", "qa-passage-head");
      var hasMarker = passage.marker !== undefined && passage.marker !== null;
      var heading = el("h3", "qa-passage-title",
        (related ? "Related passage" : "Source") + (hasMarker ? " " + passage.marker : ""));
      heading.id = passageTitleId;
      heading.tabIndex = -1;
      var close = el("button", "qa-icon-button qa-passage-close");
      close.type = "button";
      close.setAttribute("aria-label", "Close passage");
      close.appendChild(svgIcon(ICON_CLOSE, "qa-icon qa-icon--stroke"));
      close.addEventListener("click", closePassage);
      head.appendChild(heading);
      head.appendChild(close);
      passagePanel.appendChild(head);

      var scroller = el("div", "qa-passage-scroll");
      if (c.title) scroller.appendChild(el("p", "qa-passage-doc", c.title));
      var origin = [c.source, formatDate(c.date)].filter(Boolean).join(" · ");
      if (origin) scroller.appendChild(el("p", "qa-passage-origin", origin));
      var open = openLink(c, "qa-passage-open", documentName(c, []));
      if (open) scroller.appendChild(open);
      var also = alsoIn(passage, "qa-passage-also");
      if (also) scroller.appendChild(also);
      var dl = el("dl", "qa-passage-meta");
      metaRow(dl, "Section", c.section);
      metaRow(dl, "Paragraph", c.paragraph);
      if (c.page !== undefined && c.page !== null) metaRow(dl, "Page", c.page);
      if (typeof c.start === "number" && typeof c.end === "number") {
        metaRow(dl, "Characters", c.start + "–" + c.end);
      }
      scroller.appendChild(dl);

      var notes = Array.isArray(c.endnotes) ? c.endnotes : [];
      var quote = el("blockquote", "qa-passage-text");
      var marks = passageMarks(passage, shortAnswer);
      quote.appendChild(passageText(passage.text, notes, marks));
      if (c.id) quote.setAttribute("cite", c.id);
      scroller.appendChild(quote);

      if (notes.length) {
        var section = el("section", "qa-endnotes");
        var notesId = uid("endnotes");
        var nh = el("h4", "qa-endnotes-title", notes.length === 1 ? "Endnote" : "Endnotes");
        nh.id = notesId;
        section.setAttribute("aria-labelledby", notesId);
        section.appendChild(nh);
        var list = el("ol", "qa-endnote-list");
        notes.forEach(function (note) {
          var li = el("li", "qa-endnote");
          li.appendChild(el("span", "qa-endnote-number", "[" + note.number + "]"));
          li.appendChild(el("span", "qa-endnote-text", note.text));
          list.appendChild(li);
        });
        section.appendChild(list);
        scroller.appendChild(section);
      }
      passagePanel.appendChild(scroller);

      passagePanel.hidden = false;
      chat.classList.add("qa-chat--passage-open");
      heading.focus();
      // The quoted sentence in view, where the passage is longer than the panel.
      var cited = quote.querySelector(".qa-sentence");
      if (cited && typeof cited.scrollIntoView === "function") cited.scrollIntoView({ block: "nearest" });
    }

    function closePassage() {
      if (passagePanel.hidden) return false;
      passagePanel.hidden = true;
      chat.classList.remove("qa-chat--passage-open");
      if (opener) {
        opener.setAttribute("aria-expanded", "false");
        if (opener.isConnected) opener.focus();
        else input.focus();
      }
      opener = null;
      return true;
    }

    chat.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      if (closePassage()) {
        event.stopPropagation();
        return;
      }
      if (options.onEscape) {
        event.stopPropagation();
        options.onEscape();
      }
    });

    // ------------------------------------------------------------ corpus note

    client.health().then(
      function (health) {
        var docs = Array.isArray(health.documents) ? health.documents : null;
        var passages = typeof health.passages === "number" ? health.passages : null;
        var counted = passages === null ? "" : thousands(passages) + (passages === 1 ? " passage" : " passages");
        var text;
        showStarters(startersFor(docs || []));
        if (docs && docs.length === 1) {
          text = "Answers from “" + (docs[0].title || docs[0].source) + "”";
          if (passages !== null) text += " · " + counted;
        } else if (docs && docs.length > 1) {
          text = "Answers from " + docs.length + " documents";
          if (passages !== null) text += " · " + counted;
          corpusNote.title = docs.map(function (d) { return d.title || d.source; }).join("\n");
        } else if (passages !== null) {
          text = "Answers from " + counted + " in the index";
        } else {
          text = "Connected";
        }
        corpusNote.textContent = text;
      },
      function (err) {
        corpusNote.textContent = err.message || String(err);
        corpusNote.classList.add("qa-corpus--error");
      }
    );

    return {
      element: chat,
      focus: function () { input.focus(); },
      ask: submit,
      closePassage: closePassage,
    };
  }

  // ---------------------------------------------------------------- the launcher

  function mountLauncher(endpoint, apiKey) {
    if (document.querySelector("[data-qa-widget]")) return; // one launcher per page
    var host = el("div");
    host.setAttribute("data-qa-widget", "");
    host.hidden = true; // shown once the stylesheet is in, so nothing flashes unstyled
    var shadow = host.attachShadow({ mode: "open" });

    var sheet = document.createElement("link");
    sheet.rel = "stylesheet";
    sheet.href = (endpoint || "").replace(/\/+$/, "") + "/static/chat.css";
    sheet.addEventListener("load", function () { host.hidden = false; });
    sheet.addEventListener("error", function () { host.hidden = false; });
    shadow.appendChild(sheet);

    var wrap = el("div", "qa-widget");
    var panelId = uid("panel");
    var launcher = el("button", "qa-launcher");
    launcher.type = "button";
    launcher.setAttribute("aria-controls", panelId);
    launcher.setAttribute("aria-expanded", "false");
    launcher.appendChild(svgIcon(ICON_CHAT, "qa-icon"));
    launcher.appendChild(el("span", "qa-launcher-label", "Ask the documents"));

    var panel = el("div", "qa-panel");
    panel.id = panelId;
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", "Ask the documents");
    var close = el("button", "qa-icon-button qa-panel-close");
    close.type = "button";
    close.setAttribute("aria-label", "Close the assistant");
    close.appendChild(svgIcon(ICON_CLOSE, "qa-icon qa-icon--stroke"));
    panel.appendChild(close);

    var chat = null;
    function open() {
      if (!chat) chat = mountChat(panel, { endpoint: endpoint, apiKey: apiKey, onEscape: hide });
      panel.hidden = false;
      wrap.classList.add("qa-widget--open");
      launcher.setAttribute("aria-expanded", "true");
      chat.focus();
    }
    function hide() {
      panel.hidden = true;
      wrap.classList.remove("qa-widget--open");
      launcher.setAttribute("aria-expanded", "false");
      launcher.focus();
    }
    launcher.addEventListener("click", function () { panel.hidden ? open() : hide(); });
    close.addEventListener("click", hide);

    wrap.appendChild(panel);
    wrap.appendChild(launcher);
    shadow.appendChild(wrap);
    document.body.appendChild(host);
  }

  // ---------------------------------------------------------------- start-up

  window.QAChat = { mount: mountChat };
  if (!script) return; // loaded some other way: only expose QAChat.mount

  var data = script.dataset || {};
  var endpoint = data.endpoint || "";
  if (!endpoint) {
    try { endpoint = new URL(script.src, document.baseURI).origin; } catch (e) { endpoint = ""; }
  }

  function start() {
    if (data.mode === "page") {
      var root = document.getElementById(data.root || "qa-root") || document.body;
      var chat = mountChat(root, { endpoint: endpoint, apiKey: data.apiKey, heading: data.heading, headingLevel: 1 });
      chat.focus();
    } else {
      mountLauncher(endpoint, data.apiKey);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
