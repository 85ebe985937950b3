import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Token } from '../tokens/token.entity';

/** last_used_at is for humans ("is this CI token still used?"): minute precision is plenty. */
const WRITE_INTERVAL_MS = 60_000;
const MAX_TRACKED = 10_000;

/**
 * Records when each token was last used, at most once a minute per token and never on the
 * response path: a request fires the write and moves on; a failed write is only logged.
 */
@Injectable()
export class TokenUsageRecorder implements BeforeApplicationShutdown {
  private readonly logger = new Logger(TokenUsageRecorder.name);
  private readonly lastWriteAt = new Map<string, number>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(@InjectRepository(Token) private readonly tokens: Repository<Token>) {}

  touch(tokenId: string): void {
    const now = Date.now();
    const last = this.lastWriteAt.get(tokenId);
    if (last !== undefined && now - last < WRITE_INTERVAL_MS) return;
    if (this.lastWriteAt.size >= MAX_TRACKED) this.forgetOld(now);
    this.lastWriteAt.set(tokenId, now);
    const write = this.write(tokenId).finally(() => this.inFlight.delete(write));
    this.inFlight.add(write);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private async write(tokenId: string): Promise<void> {
    try {
      // The condition keeps it to one write a minute across replicas too.
      await this.tokens.query(
        `UPDATE tokens SET last_used_at = now()
          WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
        [tokenId],
      );
    } catch (error) {
      this.logger.warn(`could not record the use of token ${tokenId}: ${(error as Error).message}`);
    }
  }

  private forgetOld(now: number): void {
    for (const [id, at] of this.lastWriteAt) {
      if (now - at >= WRITE_INTERVAL_MS) this.lastWriteAt.delete(id);
    }
    if (this.lastWriteAt.size >= MAX_TRACKED) this.lastWriteAt.clear();
  }
}
