/**
 * `node --import tsx bench/lib/micro-hot.ts`: CPU per call of the hot path's own pieces, no broker
 * (payload render, envelope encode, consumer decode, recorder): where a message's CPU goes inside iotload.
 */
import { hotPathCosts } from './hot-path-floor.ts'

for (const [piece, ns] of Object.entries(hotPathCosts(400_000))) console.log(piece, ns, 'ns/op')
