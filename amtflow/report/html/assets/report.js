/* amtflow run report: draws the timeline from the data island. Text from the run (job names,
   reasons, log lines) is only ever set with textContent, never parsed as HTML. */
(function () {
  "use strict";
  var t0 = performance.now();
  var data = JSON.parse(document.getElementById("amtflow-data").textContent);
  var rowsInAll = data.lanes ? data.lanes.reduce(function (n, lane) { return n + lane[1]; }, 0) : 0;
  var compact = rowsInAll > 40;  // many rows: thin bars without labels, so lanes stay readable
  var ROW = compact ? 10 : 22, MARK_ROW = 16;
  var J = 0, ATTEMPT = 1, LANE = 2, ROWN = 3, STATE = 4, START = 5, END = 6, OPEN = 7, CRIT = 8,
    BRID = 9, CODE = 10, CODE_NAME = 11, REASON = 12, STARTED = 13, ENDED = 14, LOG = 15,
    LATE = 16, WAIT_FROM = 17;
  var chart = document.getElementById("chart");
  var tip = document.getElementById("tip");
  var origin = Date.parse(data.origin || "1970-01-01T00:00:00Z");
  var length = data.length > 0 ? data.length : 1;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function pct(seconds) { return (100 * seconds / length) + "%"; }
  function clock(seconds) {
    return new Date(origin + seconds * 1000).toISOString().slice(11, 19);
  }
  function duration(seconds) {
    if (seconds < 60) { return seconds.toFixed(2) + " s"; }
    var whole = Math.round(seconds);
    if (whole < 3600) { return Math.floor(whole / 60) + " m " + String(whole % 60).padStart(2, "0") + " s"; }
    return Math.floor(whole / 3600) + " h " + String(Math.floor(whole % 3600 / 60)).padStart(2, "0") + " m";
  }
  function word(state) { return data.states[state] || state; }

  function drawAxis() {
    var steps = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
      10800, 21600, 43200, 86400];
    var step = steps[steps.length - 1];
    for (var i = 0; i < steps.length; i++) {
      if (length / steps[i] <= 10) { step = steps[i]; break; }
    }
    var axis = el("div", "axis");
    axis.setAttribute("aria-hidden", "true");
    axis.appendChild(el("div", "lane-label", "UTC"));
    var body = el("div", "lane-body");
    for (var s = 0; s <= length + 1e-9; s += step) {
      var tick = el("span", "tick", step < 1 ? "+" + s.toFixed(1) + " s" : clock(s));
      tick.style.left = pct(s);
      body.appendChild(tick);
    }
    axis.appendChild(body);
    return axis;
  }

  function drawLane(lane, index, bars, marks) {
    var node = el("div", "lane");
    node.appendChild(el("div", "lane-label", lane[0]));
    var body = el("div", "lane-body");
    var rows = lane[1];
    body.style.height = (rows * ROW + (lane[2] ? MARK_ROW : 0) + 4) + "px";
    for (var i = 0; i < bars.length; i++) {
      if (bars[i][WAIT_FROM] !== null && bars[i][WAIT_FROM] < bars[i][START]) { body.appendChild(drawWait(bars[i])); }
      body.appendChild(drawBar(bars[i], i, rows));
    }
    for (var m = 0; m < marks.length; m++) { body.appendChild(drawMark(marks[m], rows)); }
    node.appendChild(body);
    return node;
  }

  function drawBar(bar, _, rows) {
    var cls = "bar s-" + bar[STATE];
    if (bar[CRIT]) { cls += " crit"; }
    if (bar[OPEN]) { cls += " open"; }
    if (bar[ATTEMPT] > 1) { cls += " retry"; }
    if (bar[LATE]) { cls += " late"; }
    var node = el("div", cls, compact ? null : bar[ATTEMPT] > 1 ? bar[J] + " #" + bar[ATTEMPT] : bar[J]);
    node.style.left = pct(bar[START]);
    node.style.width = pct(Math.max(0, bar[END] - bar[START]));
    node.style.top = (bar[ROWN] * ROW + 2) + "px";
    node.tabIndex = 0;
    node.setAttribute("role", "button");
    node.setAttribute("aria-label", bar[J] + ", attempt " + bar[ATTEMPT] + ", " + word(bar[STATE]) + (bar[LATE] ? ", late" : ""));
    node.dataset.bar = String(bar.index);
    return node;
  }

  function drawWait(bar) {
    var node = el("div", "wait");
    node.style.left = pct(bar[WAIT_FROM]);
    node.style.width = pct(bar[START] - bar[WAIT_FROM]);
    node.style.top = (bar[ROWN] * ROW + 2) + "px";
    node.setAttribute("aria-hidden", "true");
    return node;
  }

  function drawMark(mark, rows) {
    var node = el("div", "mark s-" + mark[2]);
    node.style.left = pct(mark[3]);
    node.style.top = (rows * ROW + 3) + "px";
    node.tabIndex = 0;
    node.setAttribute("role", "button");
    node.setAttribute("aria-label", mark[0] + ", " + word(mark[2]));
    node.dataset.mark = String(mark.index);
    return node;
  }

  function drawLegend() {
    var seen = {};
    data.bars.forEach(function (b) { seen[b[STATE]] = (seen[b[STATE]] || 0) + 1; });
    data.marks.forEach(function (m) { seen[m[2]] = (seen[m[2]] || 0) + 1; });
    var legend = document.getElementById("legend");
    Object.keys(data.states).forEach(function (state) {
      if (!seen[state]) { return; }
      var item = el("span", "key");
      item.appendChild(el("span", "swatch s-" + state));
      item.appendChild(document.createTextNode(word(state) + " (" + seen[state] + ")"));
      legend.appendChild(item);
    });
    var late = data.bars.filter(function (b) { return b[LATE]; }).length;
    if (late) {
      var lateKey = el("span", "key");
      lateKey.appendChild(el("span", "swatch s-ok late"));
      lateKey.appendChild(document.createTextNode("late: past its deadline (" + late + ")"));
      legend.appendChild(lateKey);
    }
    if (data.bars.some(function (b) { return b[WAIT_FROM] !== null; })) {
      var waitKey = el("span", "key");
      waitKey.appendChild(el("span", "swatch wait-key"));
      waitKey.appendChild(document.createTextNode("waiting for its start time"));
      legend.appendChild(waitKey);
    }
    if (data.critical.length) {
      var crit = el("span", "key");
      crit.appendChild(el("span", "swatch crit"));
      crit.appendChild(document.createTextNode("critical path"));
      legend.appendChild(crit);
    }
    legend.appendChild(el("span", "key hint", "Hover or focus a bar for details; click it (or press Enter) for its log."));
  }

  function draw() {
    if (compact) { chart.classList.add("compact"); }
    var byLane = data.lanes.map(function () { return { bars: [], marks: [] }; });
    data.bars.forEach(function (b, i) { b.index = i; byLane[b[LANE]].bars.push(b); });
    data.marks.forEach(function (m, i) { m.index = i; byLane[m[1]].marks.push(m); });
    var frag = document.createDocumentFragment();
    frag.appendChild(drawAxis());
    data.lanes.forEach(function (lane, i) {
      frag.appendChild(drawLane(lane, i, byLane[i].bars, byLane[i].marks));
    });
    chart.appendChild(frag);
    drawLegend();
  }

  function details(target) {
    if (target.dataset.bar !== undefined) {
      var b = data.bars[Number(target.dataset.bar)];
      return [
        ["Job", b[J]], ["Attempt", b[ATTEMPT]], ["Agent", data.lanes[b[LANE]][0]],
        ["State", word(b[STATE]) + (b[CRIT] ? " (critical path)" : "")],
        ["Batch request id", b[BRID] === null ? "none yet" : b[BRID]],
        ["Completion code", b[CODE] === null ? "none yet" : b[CODE] + " " + b[CODE_NAME]],
        ["Start", clock(b[START])], ["End", b[OPEN] ? "still running" : clock(b[END])],
        ["Duration", duration(b[END] - b[START]) + (b[OPEN] ? " so far" : "")],
        ["Waited", b[WAIT_FROM] !== null ? "for its start time from " + clock(b[WAIT_FROM]) : ""],
        ["Late", b[LATE] ? "yes: past its deadline" : ""],
        ["Reason", b[REASON] || ""]
      ];
    }
    var m = data.marks[Number(target.dataset.mark)];
    return [["Job", m[0]], ["Agent", data.lanes[m[1]][0]], ["State", word(m[2])],
      ["Decided", clock(m[3])], ["Reason", m[4] || ""]];
  }

  function showTip(target) {
    tip.replaceChildren();
    var list = el("dl");
    details(target).forEach(function (pair) {
      if (pair[1] === "") { return; }
      list.appendChild(el("dt", "", pair[0]));
      list.appendChild(el("dd", "", pair[1]));
    });
    tip.appendChild(list);
    tip.hidden = false;
    var box = target.getBoundingClientRect();
    var left = Math.min(box.left, window.innerWidth - tip.offsetWidth - 8);
    var top = box.bottom + 6;
    if (top + tip.offsetHeight > window.innerHeight) { top = box.top - tip.offsetHeight - 6; }
    tip.style.left = Math.max(4, left) + "px";
    tip.style.top = Math.max(4, top) + "px";
  }
  function item(event) {
    var target = event.target;
    return target && target.dataset && (target.dataset.bar !== undefined || target.dataset.mark !== undefined) ? target : null;
  }

  function openLog(target) {
    var section = document.getElementById("log");
    var title = document.getElementById("log-title");
    var note = document.getElementById("log-note");
    var link = document.getElementById("log-link");
    var pre = document.getElementById("log-text");
    pre.textContent = ""; note.textContent = ""; link.textContent = ""; link.removeAttribute("href");
    if (target.dataset.mark !== undefined) {
      var m = data.marks[Number(target.dataset.mark)];
      title.textContent = "Log of " + m[0];
      note.textContent = "No log: the job was " + word(m[2]) + (m[4] ? " (" + m[4] + ")" : "") + ".";
    } else {
      var b = data.bars[Number(target.dataset.bar)];
      title.textContent = "Log of " + b[J] + ", attempt " + b[ATTEMPT];
      var log = b[LOG] >= 0 ? data.logs[b[LOG]] : null;
      if (!log) {
        note.textContent = "No log file was recorded for this attempt.";
      } else {
        if (log[1]) { link.href = log[1]; link.textContent = "Open the log file"; }
        if (log[0] === null) {
          note.textContent = log[2] < 0 ? "The log file is gone (purged or moved)." :
            "The log (" + log[2] + " bytes) is not embedded in this page: open the file.";
        } else {
          pre.textContent = log[0];
          if (!log[3]) { note.textContent = "The last " + log[0].length + " characters of " + log[2] + " bytes."; }
        }
      }
    }
    section.hidden = false;
    title.tabIndex = -1;
    title.focus();
    section.scrollIntoView({ block: "nearest" });
  }

  function listen() {
    chart.addEventListener("mouseover", function (e) { var t = item(e); if (t) { showTip(t); } });
    chart.addEventListener("mouseout", function (e) { if (item(e)) { tip.hidden = true; } });
    chart.addEventListener("focusin", function (e) { var t = item(e); if (t) { showTip(t); } });
    chart.addEventListener("focusout", function () { tip.hidden = true; });
    chart.addEventListener("click", function (e) { var t = item(e); if (t) { openLog(t); } });
    chart.addEventListener("keydown", function (e) {
      var t = item(e);
      if (t && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); openLog(t); }
    });
    document.getElementById("log-close").addEventListener("click", function () {
      document.getElementById("log").hidden = true;
    });
  }

  /* Sorting works on every row; a table of thousands of rows shows the first PAGE of them (with
     a button for all), since laying out ten thousand rows takes the browser seconds. */
  var PAGE = 500;
  function sortable(table) {
    var heads = table.tHead.rows[0].cells;
    table.allRows = Array.prototype.slice.call(table.tBodies[0].rows);
    table.showAll = table.allRows.length <= PAGE;
    Array.prototype.forEach.call(heads, function (th, column) {
      var button = el("button", "sort", th.textContent);
      button.type = "button";
      th.replaceChildren(button);
      button.addEventListener("click", function () { sortBy(table, column, th); });
    });
    if (!table.showAll) {
      var note = el("p", "rows-note");
      var all = el("button", "", "Show all " + table.allRows.length + " rows");
      all.type = "button";
      all.addEventListener("click", function () { table.showAll = true; show(table); });
      note.appendChild(el("span"));
      note.appendChild(document.createTextNode(" "));
      note.appendChild(all);
      table.parentNode.insertBefore(note, table);
      table.rowsNote = note;
    }
    show(table);
  }
  function show(table) {
    var rows = table.showAll ? table.allRows : table.allRows.slice(0, PAGE);
    var frag = document.createDocumentFragment();
    rows.forEach(function (row) { frag.appendChild(row); });
    table.tBodies[0].replaceChildren(frag);
    if (table.rowsNote) {
      table.rowsNote.firstChild.textContent = "Showing " + rows.length + " of " + table.allRows.length + " rows (sorting covers them all).";
      table.rowsNote.lastChild.hidden = table.showAll;
    }
  }
  function sortBy(table, column, th) {
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var numeric = th.dataset.type === "number";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = table.allRows;
    var keys = rows.map(function (row) {
      var v = row.cells[column].dataset.v || "";
      return numeric ? parseFloat(v) : v;
    });
    var order = rows.map(function (_, i) { return i; });
    order.sort(function (a, b) {
      var x = keys[a], y = keys[b];
      var c = numeric ? x - y : (x < y ? -1 : x > y ? 1 : 0);
      return (ascending ? c : -c) || a - b;
    });
    table.allRows = order.map(function (i) { return rows[i]; });
    show(table);
  }

  /* The run's table comes inside <noscript>: with scripts off the browser shows it as it is;
     with scripts on it is only text, so the timeline is drawn first and the table (thousands of
     rows for a big run) is parsed afterwards, into an inert document, and moved into the page. */
  function adoptTable() {
    var source = document.getElementById("jobs-source");
    if (source) {
      var parsed = new DOMParser().parseFromString(source.textContent, "text/html");
      var section = parsed.getElementById("jobs");
      if (section) { source.replaceWith(document.adoptNode(section)); }
    }
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), sortable);
    root.dataset.readyMs = String(Math.round(performance.now() - t0));
    root.dataset.ready = "1";
  }

  var root = document.documentElement;
  if (chart) { draw(); listen(); }
  root.dataset.renderMs = String(Math.round(performance.now() - t0));
  root.dataset.drawn = "1";
  setTimeout(adoptTable, 0);
})();
