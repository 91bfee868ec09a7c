/** The report's own styles (uPlot's are inlined beside them). */
export const REPORT_CSS = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1280px; padding: 16px 24px 48px; color: #222; }
h1 { font-size: 22px; margin: 8px 0 2px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
table { border-collapse: collapse; margin: 6px 0 10px; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 9px; border-bottom: 1px solid #eee; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; } th { background: #f6f6f6; font-weight: 600; }
table.kv td:first-child { color: #666; } table.kv td { text-align: left; }
.note { color: #777; font-size: 12px; } .good { color: #1a7f37; } .bad { color: #c62828; }
.ratio { color: #555; font-size: 12px; } table.compare { font-size: 13px; } table.compare td { white-space: nowrap; } table.compare td:first-child { white-space: normal; min-width: 9em; } table.compare .note { white-space: normal; display: inline-block; max-width: 22em; } .swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; border-radius: 2px; }
figure.chart { margin: 10px 0 18px; } figure.chart figcaption { font-weight: 600; margin-bottom: 4px; }
figure.chart .plot { min-height: 40px; width: 100%; } pre { background: #f8f8f8; padding: 10px; overflow: auto; font-size: 12px; }
section.run { border-top: 3px solid #eee; margin-top: 32px; }
`
