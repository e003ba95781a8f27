import type { Dimension } from "../../store/types.js";

/**
 * Gives the records of one series one shared Dimensions array. The store checks a Dimensions
 * array once per write by identity, so a 50,000-record batch of 2,200 series costs 2,200 checks,
 * not 50,000. The pool lives for one batch, which bounds its memory by the batch's series.
 *
 * The key is the dimensions in the order the payload lists them: producers write a series' keys in
 * one order, and sorting every record's names would cost more than the occasional second array
 * for a series whose keys come in another order (both arrays name the same series in the store).
 */
export class DimensionPool {
  private readonly arrays = new Map<string, Dimension[]>();
  private readonly names: string[] = [];
  private readonly values: string[] = [];
  private key = "";

  /** Starts the dimensions of a new record. */
  begin(): void {
    this.names.length = 0;
    this.values.length = 0;
    this.key = "";
  }

  add(name: string, value: string): void {
    this.names.push(name);
    this.values.push(value);
    this.key += `${name}\u0001${value}\u0002`;
  }

  /** The shared array for the dimensions added since `begin`. Treat it as read-only. */
  end(): Dimension[] {
    let array = this.arrays.get(this.key);
    if (array === undefined) {
      array = this.names.map((name, i) => Object.freeze({ Name: name, Value: this.values[i]! }));
      Object.freeze(array);
      this.arrays.set(this.key, array);
    }
    return array;
  }

  get size(): number {
    return this.arrays.size;
  }
}
