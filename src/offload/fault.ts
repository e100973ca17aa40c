// Fault injection for recovery tests: with IPSEC_OFFLOAD_FAULT=<point> the
// daemon kills itself (SIGKILL, no cleanup) when it reaches that point, so a
// test can prove recovery from the worst moment deterministically. Inert
// unless the variable names the point.
export type FaultPoint = 'after-delsa';

export function faultPoint(point: FaultPoint): void {
  if (process.env.IPSEC_OFFLOAD_FAULT === point) process.kill(process.pid, 'SIGKILL');
}
