// An AudioWorklet processor that captures the microphone as 16-bit PCM:
// it converts the first input channel to little-endian int16 and posts a
// chunk (with its RMS level, for the meter) every `chunk` samples.
class PCMCapture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.size = (options.processorOptions && options.processorOptions.chunk) || 4800;
    this.buf = new Int16Array(this.size);
    this.n = 0;
    this.sum = 0;
    // "flush" posts the samples of an incomplete chunk (at the end).
    this.port.onmessage = (e) => {
      if (e.data === 'flush') {
        const out = this.buf.slice(0, this.n);
        this.port.postMessage({ pcm: out.buffer, rms: 0, last: true }, [out.buffer]);
        this.n = 0;
        this.sum = 0;
      }
    };
  }

  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (!ch) return true;
    for (let i = 0; i < ch.length; i++) {
      const s = Math.max(-1, Math.min(1, ch[i]));
      this.sum += s * s;
      this.buf[this.n++] = s < 0 ? s * 0x8000 : s * 0x7fff;
      if (this.n === this.size) {
        const out = this.buf;
        this.port.postMessage({ pcm: out.buffer, rms: Math.sqrt(this.sum / this.size) }, [out.buffer]);
        this.buf = new Int16Array(this.size);
        this.n = 0;
        this.sum = 0;
      }
    }
    return true;
  }
}

registerProcessor('pcm-capture', PCMCapture);
