/**
 * YANG notifications: plugins emit them, protocol edges (NETCONF create-subscription, RESTCONF
 * streams) and other plugins subscribe. Each is validated against its schema, stamped with an
 * event time and kept in a bounded replay log (RFC 5277 replay).
 */
import { YangError } from '../errors.ts';
import { decodeObject, toJsonValue } from '../yang/json.ts';
import type { DataObject, Schema } from '../yang/schema.ts';
import { validateOperationBody } from '../yang/validate.ts';

export interface YangNotification {
  /** `module:notification` */
  name: string;
  eventTime: Date;
  /** Decoded body (internal form) for the XML/JSON encoders. */
  body: DataObject;
  /** The same body as JSON (RFC 7951 members of the notification node). */
  json: Record<string, unknown>;
}

export type NotificationHandler = (n: YangNotification) => void;

export class NotificationBus {
  private readonly handlers = new Set<NotificationHandler>();
  private readonly log: YangNotification[] = [];

  constructor(
    private readonly schema: Schema,
    private readonly replaySize = 1000,
    private readonly onHandlerError: (e: unknown) => void = () => undefined,
  ) {}

  emit(name: string, body: unknown = {}): YangNotification {
    const node = this.schema.notifications.get(name);
    if (!node) throw new YangError({ tag: 'unknown-element', message: `no notification "${name}" in the loaded YANG modules` });
    const decoded = decodeObject(this.schema, node, body, `/${name}`);
    validateOperationBody(this.schema, node, decoded, `/${name}`);
    const n: YangNotification = { name, eventTime: new Date(), body: decoded, json: toJsonValue(node, decoded) as Record<string, unknown> };
    this.log.push(n);
    if (this.log.length > this.replaySize) this.log.splice(0, this.log.length - this.replaySize);
    for (const h of this.handlers) {
      try {
        h(n);
      } catch (e) {
        this.onHandlerError(e);
      }
    }
    return n;
  }

  subscribe(handler: NotificationHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Logged notifications with start <= eventTime <= stop, oldest first. */
  replay(start?: Date, stop?: Date): YangNotification[] {
    return this.log.filter((n) => (!start || n.eventTime >= start) && (!stop || n.eventTime <= stop));
  }

  /** Time of the oldest notification still in the log (RFC 5277 replayLogCreationTime-ish). */
  oldest(): Date | undefined {
    return this.log[0]?.eventTime;
  }
}
