/* modbot comment widget.

   <script src="https://modbot.example/embed.js" data-post="SLUG" async></script>

   shows the post's comments and the comment form where the tag stands, in
   a frame served by modbot: what commenters wrote never enters the
   embedding page, the form works as it does on modbot's own page, and
   the frame follows its content's height. modbot lets only the origins
   listed in [web] cors_origins frame it. */
(function () {
	"use strict";
	var script = document.currentScript;
	if (!script || !script.src) {
		return;
	}
	var slug = script.getAttribute("data-post") || "";
	if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(slug)) {
		if (window.console) {
			console.error("modbot: data-post must be a post's slug, got", slug);
		}
		return;
	}
	var origin = new URL(script.src, document.baseURI).origin;

	var frame = document.createElement("iframe");
	frame.src = origin + "/embed/" + slug;
	frame.title = script.getAttribute("data-title") || "Comments";
	frame.className = "modbot-comments";
	frame.setAttribute("data-post", slug);
	frame.style.display = "block";
	frame.style.width = "100%";
	frame.style.minHeight = "12rem";
	frame.style.border = "0";
	script.parentNode.insertBefore(frame, script.nextSibling);

	window.addEventListener("message", function (e) {
		if (e.origin !== origin || e.source !== frame.contentWindow) {
			return;
		}
		var d = e.data;
		if (!d || d.modbot !== 1) {
			return;
		}
		if (typeof d.height === "number" && d.height > 0 && d.height < 1e6) {
			frame.style.height = Math.ceil(d.height) + "px";
		}
		if (typeof d.title === "string" && d.title) {
			frame.title = d.title.slice(0, 200);
		}
		if (typeof d.scrollTo === "number" && d.scrollTo >= 0) {
			var top = frame.getBoundingClientRect().top + window.pageYOffset + d.scrollTo;
			window.scrollTo(0, Math.max(0, top - 16));
		}
	});
})();
