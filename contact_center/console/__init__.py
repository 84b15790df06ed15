"""The agents' console: one static page (HTML, vanilla JavaScript, CSS) over the console API."""
