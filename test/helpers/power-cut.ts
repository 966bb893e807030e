/**
 * A power cut for a process writing to disk, simulated with a loop device: a small ext4 file
 * system in an image file, mounted through /dev/loopN. What the file system has sent to its
 * block device is in the image file; what sits only in the page cache (written, not fsynced)
 * is not. `cut()` copies the image at that moment (the writer already killed) and mounts the copy,
 * which replays the ext4 journal as a boot after a power loss does: only what reached the "disk"
 * is there. Why this and not another way, on this machine (root, kernel without dm modules):
 * - dm-flakey / dm-log-writes (drop_writes) would do it at the block layer, but there is no
 *   device-mapper here (`modprobe dm-flakey`: not found);
 * - `echo 1 > /proc/sys/vm/drop_caches` drops only clean pages: dirty ones are written first;
 * - an LD_PRELOAD shim that drops unsynced writes would have to model the file system's
 *   ordering (which metadata a later fsync carries along), which ext4 itself does here for real.
 * The copy is of one moment as long as nothing writes to the image meanwhile: the writer is dead,
 * the mount has `commit=600` (no periodic journal commit within the test) and `noauto_da_alloc`
 * (no flush on close or rename), and dirty pages are only written back once 30 s old
 * (vm.dirty_expire_centisecs) or under memory pressure (10% of RAM dirty), neither of which a test
 * of seconds reaches. Needs root, losetup, mkfs.ext4.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { LevelBackend } from '../../src/datastore/backends/level.ts';
import { carOf, putCar, startOn, type Car } from './sextant-process.ts';

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** Whether loop devices can be set up here (root, losetup and mkfs.ext4 present). */
export function loopDevicesUsable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: loop devices need root';
  try {
    run('losetup', ['--version']);
    run('mkfs.ext4', ['-V']);
  } catch (e) {
    return `losetup or mkfs.ext4 missing: ${(e as Error).message}`;
  }
  return undefined;
}

export class LoopDisk {
  private device?: string;
  readonly mountPoint: string;

  private constructor(
    private readonly root: string,
    readonly image: string,
  ) {
    this.mountPoint = join(root, `mnt-${Math.random().toString(36).slice(2, 8)}`);
  }

  /** A fresh ext4 of `mb` MB, mounted; its setup flushed so only what the test writes is at stake. */
  static create(mb = 64): LoopDisk {
    const root = mkdtempSync(join(tmpdir(), 'sextant-powercut-'));
    const disk = new LoopDisk(root, join(root, 'disk.img'));
    run('truncate', ['-s', `${mb}M`, disk.image]);
    run('mkfs.ext4', ['-q', '-F', disk.image]);
    disk.mount();
    run('sync', ['-f', disk.mountPoint]);
    return disk;
  }

  private mount(): void {
    mkdirSync(this.mountPoint, { recursive: true });
    this.device = run('losetup', ['-f', '--show', this.image]);
    try {
      run('mount', ['-o', 'noauto_da_alloc,commit=600', this.device, this.mountPoint]);
    } catch (e) {
      run('losetup', ['-d', this.device]);
      this.device = undefined;
      throw e;
    }
  }

  /**
   * The power cut: the disk as it is now, booted again (a copy of the image, mounted, its journal
   * replayed). Call it once every writer is dead. This disk is unmounted (its page cache, flushed
   * on the way, goes with it).
   */
  cut(): LoopDisk {
    const after = new LoopDisk(this.root, join(this.root, `after-${Math.random().toString(36).slice(2, 8)}.img`));
    copyFileSync(this.image, after.image);
    this.unmount();
    after.mount();
    return after;
  }

  private unmount(): void {
    if (!this.device) return;
    try {
      run('umount', [this.mountPoint]);
    } catch {
      run('umount', ['-l', this.mountPoint]);
    }
    run('losetup', ['-d', this.device]);
    this.device = undefined;
  }

  /** Unmounts, detaches the loop device and removes its image (and the folder once it is empty). */
  dispose(): void {
    this.unmount();
    rmSync(this.image, { force: true });
    rmSync(this.mountPoint, { recursive: true, force: true });
    if (!readdirSync(this.root).length) rmdirSync(this.root);
  }
}

export interface PowerCutResult {
  acked: Car[];
  /** Acknowledged cars missing after the cut. */
  lost: Car[];
  /** Cars there whose content is not what was written. */
  wrong: string[];
  /** PUTs under way (sent, not answered) when the power went. */
  inFlight: number;
  /** A file written without fsync just before the cut was gone after it: the cut really drops unsynced data. */
  canaryDropped: boolean;
  /** The data dir could not be opened after the cut (counts as all lost). */
  openError?: string;
}

/**
 * The controller on a loop disk with `--datastore-sync=<sync>`, four RESTCONF writers PUTting one
 * car each per commit for `ms`, then SIGKILL and the power cut while PUTs are under way. Reads the
 * data dir after the cut as the controller stores it (its LevelDB units).
 */
export async function powerCut(t: { teardown(fn: () => void): void }, sync: 'always' | 'none', ms: number, tag: string): Promise<PowerCutResult> {
  const disk = LoopDisk.create();
  let after: LoopDisk | undefined;
  try {
    const dataDir = join(disk.mountPoint, 'data');
    const c = await startOn(t, dataDir, [`--datastore-sync=${sync}`]);
    const acked: Car[] = [];
    let next = 0;
    let inFlight = 0;
    let stop = false;
    const writers = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const car = carOf(tag, next++);
        inFlight++;
        const status = await putCar(c.url, car).catch(() => 0);
        inFlight--;
        if (stop) return; // answered after the kill: not an acknowledgement the test counts
        if (status === 201 || status === 204) acked.push(car);
      }
    });
    await new Promise((r) => setTimeout(r, ms));
    // Written just before the cut and never fsynced: what every unsynced write risks.
    writeFileSync(join(disk.mountPoint, 'canary'), 'written, not synced');
    stop = true;
    const underWay = inFlight;
    process.kill(c.child.pid!, 'SIGKILL');
    await c.exited;
    await Promise.all(writers);
    after = disk.cut();
    const canary = join(after.mountPoint, 'canary');
    let canaryDropped = true;
    try {
      canaryDropped = readFileSync(canary, 'utf8') !== 'written, not synced';
    } catch {
      canaryDropped = true;
    }
    const backend = new LevelBackend(join(after.mountPoint, 'data'));
    const stored = new Map<string, string>();
    let openError: string | undefined;
    try {
      await backend.open();
      for (const e of await backend.list('/car:cars/car-entry=')) stored.set(e.key, e.value);
      await backend.close();
    } catch (e) {
      openError = (e as Error).message;
    }
    const lost = acked.filter((car) => !stored.has(`/car:cars/car-entry=${car.id}`));
    const wrong: string[] = [];
    for (const [key, value] of stored) {
      const id = key.slice('/car:cars/car-entry='.length);
      const n = Number(id.slice(tag.length + 1));
      if (JSON.stringify(JSON.parse(value)) !== JSON.stringify(carOf(tag, n))) wrong.push(`${id}: ${value}`);
    }
    return { acked, lost, wrong, inFlight: underWay, canaryDropped, openError };
  } finally {
    after?.dispose();
    disk.dispose();
  }
}
