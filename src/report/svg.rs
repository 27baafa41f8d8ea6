//! Inline SVG charts (stub).
