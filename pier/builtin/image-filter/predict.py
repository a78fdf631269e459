import tempfile

from cog import BasePredictor, Input, Path
from PIL import Image, ImageFilter, ImageOps

FILTERS = ["blur", "contour", "emboss", "grayscale", "invert", "sharpen"]


class Predictor(BasePredictor):
    def predict(
        self,
        image: Path = Input(description="Image to transform"),
        filter: str = Input(description="What to do to it", choices=FILTERS, default="blur"),
        strength: float = Input(description="Blur radius in pixels", default=4.0, ge=0, le=50),
        output_format: str = Input(
            description="File format", choices=["png", "webp", "jpg"], default="png"
        ),
    ) -> Path:
        picture = Image.open(image).convert("RGB")
        if filter == "blur":
            picture = picture.filter(ImageFilter.GaussianBlur(strength))
        elif filter == "grayscale":
            picture = ImageOps.grayscale(picture)
        elif filter == "invert":
            picture = ImageOps.invert(picture)
        else:
            picture = picture.filter(getattr(ImageFilter, filter.upper()))
        out = Path(tempfile.mkdtemp()) / f"filtered.{output_format}"
        picture.save(out, format="JPEG" if output_format == "jpg" else output_format.upper())
        return out
