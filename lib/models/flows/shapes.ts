/**
 * Image layouts for flows. A flow always sees points as rows of a [batch, dim] tensor; a layer that
 * acts per channel (actnorm, the 1×1 convolution, squeeze) also needs to know that a row holds an
 * image of height × width pixels with `channels` values each, stored channel-fastest (NHWC, as
 * MNIST's rows are for one channel). A vector of d numbers is the 1 × 1 image with d channels.
 */
export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

/** A vector dimension d (the 1 × 1 × d image) or an image shape. */
export type FlowShape = number | ImageShape;

/** The image shape of `shape`, checked. */
export function imageShape(who: string, shape: FlowShape): ImageShape {
  const image = typeof shape === 'number' ? { height: 1, width: 1, channels: shape } : shape;
  for (const key of ['height', 'width', 'channels'] as const) {
    const v = image?.[key];
    if (!Number.isInteger(v) || v < 1)
      throw new Error(
        `${who}: the shape must be a dimension d or { height, width, channels } of positive ` +
          `integers, got ${key} ${v}`,
      );
  }
  return image;
}

/** Numbers per point: height × width × channels. */
export function shapeSize(shape: ImageShape): number {
  return shape.height * shape.width * shape.channels;
}

/** "h × w × c" for messages and names. */
export function describeShape(shape: ImageShape): string {
  return `${shape.height} × ${shape.width} × ${shape.channels}`;
}
