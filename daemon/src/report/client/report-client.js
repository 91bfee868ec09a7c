// The report's charts: runs in the browser, inlined into the HTML with uPlot (no network, no
// build step). Reads the data block the server wrote; every chart is drawn from stored per-second
// rows and exactly merged histograms. Marks each figure with how many points it drew, for tests.
/* global uPlot */
;(() => {
  const data = JSON.parse(document.getElementById('iotload-data').textContent)
  const PALETTE = [
    '#1f77b4',
    '#d62728',
    '#2ca02c',
    '#ff7f0e',
    '#9467bd',
    '#8c564b',
    '#e377c2',
    '#17becf',
    '#bcbd22',
    '#7f7f7f',
  ]
  const PCT_COLOURS = { p50: '#2ca02c', p90: '#1f77b4', p99: '#ff7f0e', p999: '#d62728', max: '#7f7f7f' }
  const colourOf = (i) => PALETTE[i % PALETTE.length]
  const drawn = []
  window.__iotloadCharts = drawn

  const fmtUs = (us) => {
    if (us === null || us === undefined) return '-'
    if (us < 1000) return `${Math.round(us)}µs`
    if (us < 1e6) return `${(us / 1000).toFixed(us < 1e4 ? 2 : 1)}ms`
    return `${(us / 1e6).toFixed(2)}s`
  }
  // x = 1/(1 − q) on the "nines" axis: 1 → 0 %, 10 → 90 %, 100 → 99 %, 1000 → 99.9 % …
  const fmtNines = (x) => {
    if (x < 1.5) return '0%'
    const nines = Math.round(Math.log10(x))
    return `${(100 - 100 / 10 ** nines).toFixed(Math.max(0, nines - 2))}%`
  }
  const positive = (col) => col.map((v) => (v === null || v === undefined || v <= 0 ? null : v))
  const hasData = (col) => col.some((v) => v !== null && v !== undefined)

  // Union of x values; each series keeps its own points (nulls elsewhere, lines span the gaps).
  function join(sets) {
    const xs = [...new Set(sets.flatMap((s) => s.x))].sort((a, b) => a - b)
    const index = new Map(xs.map((x, i) => [x, i]))
    const ys = sets.map((s) => {
      const col = new Array(xs.length).fill(null)
      s.x.forEach((x, i) => {
        col[index.get(x)] = s.y[i] ?? null
      })
      return col
    })
    return [xs, ...ys]
  }

  function shade(ranges) {
    return {
      hooks: {
        drawClear: (u) => {
          const ctx = u.ctx
          ctx.save()
          ctx.fillStyle = 'rgba(128,128,128,0.15)'
          for (const [from, to] of ranges) {
            const x0 = u.valToPos(from, 'x', true)
            const x1 = u.valToPos(to, 'x', true)
            ctx.fillRect(x0, u.bbox.top, Math.max(1, x1 - x0), u.bbox.height)
          }
          ctx.restore()
        },
      },
    }
  }

  // Faults and outages: a red line where each began and a light red band over its window.
  function markFaults(faults) {
    return {
      hooks: {
        draw: (u) => {
          const ctx = u.ctx
          ctx.save()
          for (const f of faults) {
            const x0 = u.valToPos(f.from, 'x', true)
            const x1 = u.valToPos(f.to, 'x', true)
            ctx.fillStyle = 'rgba(214,39,40,0.10)'
            ctx.fillRect(x0, u.bbox.top, Math.max(1, x1 - x0), u.bbox.height)
            ctx.fillStyle = 'rgba(214,39,40,0.9)'
            ctx.fillRect(x0, u.bbox.top, Math.max(1, devicePixelRatio), u.bbox.height)
            ctx.font = `${11 * devicePixelRatio}px sans-serif`
            ctx.fillText(f.label.slice(0, 40), x0 + 3 * devicePixelRatio, u.bbox.top + 12 * devicePixelRatio)
          }
          ctx.restore()
        },
      },
    }
  }

  // Faults of the chart's run, or of every run on a comparison chart.
  function faultsOf(fig) {
    const runs = fig.dataset.run !== undefined ? [data.runs[Number(fig.dataset.run)]] : data.runs
    return runs.flatMap((r) => r?.faults ?? [])
  }

  // spec: { series: [{label, x, y, colour, dash, scale}], log, xNines, unit: 'us'|'count', right: {label}, warmup }
  function chart(fig, spec) {
    const plot = fig.querySelector('.plot')
    const series = spec.series.filter((s) => hasData(spec.log && s.scale !== 'right' ? positive(s.y) : s.y))
    if (series.length === 0) {
      plot.textContent = 'no data recorded for this chart'
      fig.dataset.empty = 'true'
      return
    }
    const table = join(
      series.map((s) => ({ x: s.x, y: spec.log && s.scale !== 'right' ? positive(s.y) : s.y })),
    )
    let points = 0
    for (const col of table.slice(1)) for (const v of col) if (v !== null) points++
    const yFmt = spec.unit === 'us' ? fmtUs : (v) => `${v}`
    const xFmt = spec.xNines ? fmtNines : (v) => `${v}s`
    const axes = [
      {
        values: (_u, ticks) => ticks.map(xFmt),
        ...(spec.xNines ? { splits: (_u, _i, _min, max) => nineSplits(max) } : {}),
      },
      { values: (_u, ticks) => ticks.map(yFmt), size: 70 },
    ]
    const scales = {
      x: spec.xNines ? { time: false, distr: 3, log: 10 } : { time: false },
      y: spec.log ? { distr: 3, log: 10 } : {},
    }
    if (spec.right) {
      scales.right = {}
      axes.push({ scale: 'right', side: 1, grid: { show: false }, label: spec.right.label, size: 60 })
    }
    const ranges = spec.warmup && !spec.xNines ? spec.warmup : []
    const opts = {
      width: Math.max(320, plot.clientWidth || 900),
      height: 280,
      scales,
      axes,
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      plugins: [
        ...(ranges.length > 0 ? [shade(ranges)] : []),
        ...(!spec.xNines && faultsOf(fig).length > 0 ? [markFaults(faultsOf(fig))] : []),
      ],
      series: [
        { label: spec.xNines ? 'percentile' : 'second', value: (_u, v) => (v === null ? '-' : xFmt(v)) },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.colour,
          width: s.width ?? 1.5,
          dash: s.dash,
          scale: s.scale === 'right' ? 'right' : 'y',
          spanGaps: true,
          points: { show: false },
          value: (_u, v) => (v === null ? '-' : s.scale === 'right' ? `${v}` : yFmt(v)),
        })),
      ],
    }
    new uPlot(opts, table, plot)
    fig.dataset.points = String(points)
    if (!spec.xNines) fig.dataset.faults = String(faultsOf(fig).length)
    drawn.push({ id: fig.id, points })
  }

  function nineSplits(max) {
    const out = []
    for (let x = 1; x <= max * 1.0001; x *= 10) out.push(x)
    return out
  }

  // Percentile → x on the nines axis; 100 % has no finite place and is left out (max is in the tables).
  function ninesSeries(label, pair, colour, dash) {
    const [ps, vs] = pair
    const x = []
    const y = []
    ps.forEach((p, i) => {
      if (p < 100) {
        x.push(1 / (1 - p / 100))
        y.push(vs[i])
      }
    })
    return { label, x, y, colour, dash }
  }

  const unionWarmup = (runs) => runs.map((r) => r.warmup).filter(Boolean)

  const builders = {
    'latency-raw': (run) => latencyOverTime(run, 'raw'),
    'latency-co': (run) => latencyOverTime(run, 'co'),
    spectrum: (run) => ({
      log: true,
      xNines: true,
      unit: 'us',
      series: Object.entries(run.spectra).flatMap(([stream, s], i) => [
        ninesSeries(`${stream} raw`, s.raw, colourOf(i)),
        ...(s.co ? [ninesSeries(`${stream} co`, s.co, colourOf(i), [6, 4])] : []),
      ]),
    }),
    throughput: (run) => {
      const e = run.e2e
      if (!e) return { series: [] }
      return {
        unit: 'count',
        warmup: unionWarmup([run]),
        series: [
          { label: 'sent/s', x: e.x, y: e.sent, colour: PALETTE[0] },
          { label: 'received/s', x: e.x, y: e.received, colour: PALETTE[2] },
          // The per-second target (a staged schedule's ramp); runs stored before it was kept get the flat rate.
          ...(e.target.some((v) => v !== null)
            ? [{ label: 'target/s', x: e.x, y: e.target, colour: '#999', dash: [4, 4] }]
            : run.targetRate
              ? [
                  {
                    label: 'target/s',
                    x: e.x,
                    y: e.x.map(() => run.targetRate),
                    colour: '#999',
                    dash: [4, 4],
                  },
                ]
              : []),
        ],
      }
    },
    errors: (run) => {
      const e = run.e2e
      if (!e) return { series: [] }
      const cols = [
        ['gaps outstanding', e.gaps],
        ['duplicates/s', e.duplicates],
        ['reordered/s', e.reordered],
        ['invalid/s', e.invalid],
        ['publish errors/s', e.publishErrors],
      ]
      return {
        unit: 'count',
        warmup: unionWarmup([run]),
        series: cols.map(([label, y], i) => ({ label, x: e.x, y, colour: colourOf(i + 1) })),
      }
    },
    legs: (run) => ({
      log: true,
      unit: 'us',
      warmup: unionWarmup([run]),
      series: Object.entries(run.legs).flatMap(([leg, l], i) => [
        { label: `${leg} p99`, x: l.x, y: l.p99, colour: colourOf(i) },
        { label: `${leg} p50`, x: l.x, y: l.p50, colour: colourOf(i), dash: [6, 4] },
      ]),
    }),
    generator: (run) => {
      const e = run.e2e
      if (!e) return { series: [] }
      return {
        log: true,
        unit: 'us',
        warmup: unionWarmup([run]),
        right: { label: 'in flight' },
        series: [
          { label: 'send lag p99', x: e.x, y: e.lagP99, colour: PALETTE[0] },
          { label: 'send lag max', x: e.x, y: e.lagMax, colour: PALETTE[0], dash: [6, 4] },
          { label: 'event-loop delay p99', x: e.x, y: e.loopDelayP99, colour: PALETTE[1] },
          { label: 'publishes in flight (peak)', x: e.x, y: e.inFlight, colour: PALETTE[2], scale: 'right' },
        ],
      }
    },
    connections: (run) => {
      const e = run.e2e
      if (!e) return { series: [] }
      return {
        unit: 'count',
        warmup: unionWarmup([run]),
        series: [
          { label: 'disconnects/s', x: e.x, y: e.disconnects, colour: PALETTE[1] },
          { label: 'reconnects/s', x: e.x, y: e.reconnects, colour: PALETTE[2] },
        ],
      }
    },
  }

  function latencyOverTime(run, kind) {
    const e = run.e2e
    const cols = e ? e[kind] : null
    if (!cols) return { series: [] }
    return {
      log: true,
      unit: 'us',
      warmup: unionWarmup([run]),
      series: Object.entries(PCT_COLOURS).map(([k, colour]) => ({
        label: `${k === 'p999' ? 'p99.9' : k} ${kind}`,
        x: e.x,
        y: cols[k],
        colour,
      })),
    }
  }

  const compareBuilders = {
    'cmp-spectrum-raw': (runs) => cmpSpectrum(runs, 'raw'),
    'cmp-spectrum-co': (runs) => cmpSpectrum(runs, 'co'),
    'cmp-p99-raw': (runs) => cmpOverTime(runs, (e) => e.raw.p99, true, 'us'),
    'cmp-p99-co': (runs) => cmpOverTime(runs, (e) => (e.co ? e.co.p99 : null), true, 'us'),
    'cmp-throughput': (runs) => cmpOverTime(runs, (e) => e.received, false, 'count'),
    'cmp-lag': (runs) => cmpOverTime(runs, (e) => e.lagP99, true, 'us'),
  }

  function cmpSpectrum(runs, kind) {
    return {
      log: true,
      xNines: true,
      unit: 'us',
      series: runs.flatMap((r, i) => {
        const s = r.spectra.e2e
        return s?.[kind] ? [ninesSeries(r.name, s[kind], colourOf(i))] : []
      }),
    }
  }

  function cmpOverTime(runs, pick, log, unit) {
    return {
      log,
      unit,
      warmup: unionWarmup(runs),
      series: runs.flatMap((r, i) => {
        const y = r.e2e ? pick(r.e2e) : null
        return y ? [{ label: r.name, x: r.e2e.x, y, colour: colourOf(i) }] : []
      }),
    }
  }

  for (const sw of document.querySelectorAll('.swatch[data-run]'))
    sw.style.background = colourOf(Number(sw.dataset.run))
  for (const fig of document.querySelectorAll('figure.chart')) {
    const kind = fig.dataset.kind
    try {
      if (compareBuilders[kind]) chart(fig, compareBuilders[kind](data.runs))
      else chart(fig, builders[kind](data.runs[Number(fig.dataset.run ?? 0)]))
    } catch (err) {
      fig.querySelector('.plot').textContent = `chart failed: ${err.message}`
      fig.dataset.failed = 'true'
      throw err
    }
  }
  document.body.dataset.charts = 'done'
})()
