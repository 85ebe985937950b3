import { RollupWatermark } from './rollup-watermark';

const at = (seconds: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, seconds));

describe('RollupWatermark', () => {
  it('takes the newest mark taken before the oldest running writer began', () => {
    const watermark = new RollupWatermark();
    watermark.mark({ id: 100, at: at(0) });
    watermark.mark({ id: 250, at: at(5) });
    watermark.mark({ id: 400, at: at(10) });
    // A writer that began at 7 s may hold any id above 250 (it took them after that mark).
    expect(watermark.takeSafe(at(7))).toBe(250);
    expect(watermark.takeSafe(at(7))).toBeNull();
    expect(watermark.takeSafe(at(11))).toBe(400);
  });

  it('takes the newest mark when nothing writes, and nothing before a first mark', () => {
    const watermark = new RollupWatermark();
    expect(watermark.takeSafe(null)).toBeNull();
    watermark.mark({ id: 5, at: at(0) });
    watermark.mark({ id: 9, at: at(1) });
    expect(watermark.takeSafe(null)).toBe(9);
  });

  it('never takes a mark taken at the instant the oldest writer began', () => {
    const watermark = new RollupWatermark();
    watermark.mark({ id: 5, at: at(3) });
    expect(watermark.takeSafe(at(3))).toBeNull();
  });

  it('keeps the earlier of two marks of the same id (it is safe sooner)', () => {
    const watermark = new RollupWatermark();
    watermark.mark({ id: 5, at: at(1) });
    watermark.mark({ id: 5, at: at(9) });
    expect(watermark.takeSafe(at(2))).toBe(5);
  });
});
