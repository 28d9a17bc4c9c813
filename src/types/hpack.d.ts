// The part of hpack.js (which ships no types) that crid uses.
declare module 'hpack.js' {
  namespace hpack {
    interface EncodedField {
      name: string;
      value: string;
      neverIndex?: boolean;
      huffman?: boolean;
    }
    interface Compressor {
      write(fields: EncodedField[]): void;
      read(): Buffer | null;
    }
    interface Decompressor {
      write(block: Buffer): void;
      execute(): void;
      read(): { name: string; value: string } | null;
    }
    /** A bit reader over pushed buffers; each call throws when the input ends too soon. */
    interface Decoder {
      push(chunk: Buffer): void;
      isEmpty(): boolean;
      decodeBit(): number;
      decodeInt(): number;
      /** A string literal's octets (Huffman-decoded when so encoded). */
      decodeStr(): Buffer | number[];
    }
    interface TableEntry {
      name: string;
      value: string;
      nameSize: number;
    }
    /** The static and dynamic tables; `lookup` throws on an index outside them. */
    interface Table {
      lookup(index: number): TableEntry;
      add(name: string, value: string, nameSize: number, valueSize: number): void;
      updateSize(size: number): void;
    }
  }
  const hpack: {
    compressor: { create(options: { table: { maxSize: number } }): hpack.Compressor };
    decompressor: { create(options: { table: { maxSize: number } }): hpack.Decompressor };
    decoder: { create(): hpack.Decoder };
    table: { create(options: { maxSize: number }): hpack.Table };
  };
  export default hpack;
}
