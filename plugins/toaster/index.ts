/**
 * The toaster: OpenDaylight's classic sample application, served for real. It keeps the
 * toaster's state in the operational datastore, reads its darkness factor from the config
 * datastore, toasts one slice at a time (make-toast answers in-use while busy, resource-denied
 * without bread), and emits toasterOutOfBread / toasterRestocked. The platform tests use it as a
 * plugin that exercises rpcs, notifications and both stores.
 */
import { YangError } from '../../src/errors.ts';
import { toaster, type Toaster as ToasterJson } from '../../src/bindings/toaster.ts';
import { definePlugin, type PluginContext } from '../../src/plugin/api.ts';

const STATE = toaster();

interface Job {
  timer: NodeJS.Timeout;
  finish: (error?: YangError) => void;
}

/** One toaster per controller: the slice being toasted and the next toast's id. */
interface Toaster {
  job?: Job;
  nextToastId: bigint;
}

async function writeState(ctx: PluginContext, state: ToasterJson): Promise<void> {
  const tx = ctx.data.transaction('operational');
  tx.merge(STATE, state);
  await tx.commit();
}

function breadInStock(ctx: PluginContext): number {
  return ctx.data.read('operational', STATE)?.amountOfBreadInStock ?? 0;
}

export default definePlugin({
  name: 'toaster',
  yang: ['toaster'],
  provides: ['toaster'],

  async start(ctx): Promise<Toaster> {
    await writeState(ctx, {
      toasterManufacturer: 'Sextant',
      toasterModelNumber: 'S-1',
      toasterStatus: 'up',
      amountOfBreadInStock: 0,
    });
    return { nextToastId: 1n };
  },

  rpcs: {
    async 'toaster:make-toast'(input, ctx, toaster) {
      if (toaster.job) throw new YangError({ tag: 'in-use', message: 'the toaster is already making toast' });
      const stock = breadInStock(ctx);
      if (stock === 0) {
        ctx.notifications.emit('toaster:toasterOutOfBread');
        throw new YangError({ tag: 'resource-denied', message: 'the toaster is out of bread' });
      }
      const darkness = ctx.data.read('config', STATE)?.darknessFactor ?? 1000;
      const doneness = input.toasterDoneness as number;
      // A real toaster heats for darkness x doneness; scaled so a default slice takes 50 ms.
      const millis = Math.round((darkness * doneness) / 100);
      const toastId = toaster.nextToastId++;
      await writeState(ctx, { toasterStatus: 'down', amountOfBreadInStock: stock - 1 });
      const failure = await new Promise<YangError | undefined>((resolve) => {
        toaster.job = { timer: ctx.timers.setTimeout(() => resolve(undefined), millis), finish: resolve };
      });
      toaster.job = undefined;
      await writeState(ctx, { toasterStatus: 'up' });
      if (failure) throw failure;
      if (stock - 1 === 0) ctx.notifications.emit('toaster:toasterOutOfBread');
      return { 'toast-id': toastId.toString() };
    },

    'toaster:cancel-toast'(_input, ctx, toaster) {
      const job = toaster.job;
      if (!job) return undefined;
      ctx.timers.clear(job.timer);
      job.finish(new YangError({ tag: 'operation-failed', message: 'toasting was cancelled' }));
      return undefined;
    },

    async 'toaster:restock-toaster'(input, ctx) {
      const amount = breadInStock(ctx) + ((input.amountOfBreadToStock as number | undefined) ?? 0);
      await writeState(ctx, { amountOfBreadInStock: amount });
      ctx.notifications.emit('toaster:toasterRestocked', { amountOfBread: amount });
      return undefined;
    },
  },

  stop(_ctx, toaster) {
    // The platform has cleared the timer; the caller still waiting is told why.
    toaster.job?.finish(new YangError({ tag: 'operation-failed', message: 'the controller is stopping' }));
  },
});
