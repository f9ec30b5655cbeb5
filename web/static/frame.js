/* Runs inside the comment widget's frame (see embed.js): tells the
   embedding page how tall the content is, and where to scroll when a
   link or the form points somewhere inside it. */
(function () {
	"use strict";
	if (window.parent === window) {
		return;
	}
	var root = document.documentElement;
	var last = 0;

	function send(msg) {
		msg.modbot = 1;
		// Only sizes and offsets: nothing here is secret.
		window.parent.postMessage(msg, "*");
	}

	function height() {
		var h = Math.ceil(root.getBoundingClientRect().height);
		if (h !== last) {
			last = h;
			send({ height: h, title: document.title });
		}
	}

	function target() {
		var id = decodeURIComponent(location.hash.slice(1));
		var el = id && document.getElementById(id);
		if (!el) {
			el = document.querySelector(".errors");
		}
		if (!el && /\/sent$/.test(location.pathname)) {
			el = document.body;
		}
		return el;
	}

	function init() {
		height();
		var el = target();
		if (el) {
			send({ scrollTo: el.getBoundingClientRect().top + window.pageYOffset });
		}
		if (window.ResizeObserver) {
			new ResizeObserver(height).observe(root);
		} else {
			window.addEventListener("resize", height);
		}
	}

	window.addEventListener("hashchange", function () {
		var el = target();
		if (el) {
			send({ scrollTo: el.getBoundingClientRect().top + window.pageYOffset });
		}
	});
	if (document.readyState === "loading") {
		document.addEventListener("DOMContentLoaded", init);
	} else {
		init();
	}
})();
