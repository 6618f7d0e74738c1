"""Draw the example packshot: a Nordlicht 'Spring Roast' coffee bag on a transparent background.

Run from the repository root: .venv/bin/python examples/packshot/make_product.py
"""
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).resolve().parent
FONTS = HERE.parent.parent / "brand" / "nordlicht" / "fonts"


def main() -> None:
    w, h = 600, 860
    bag = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(bag)
    kraft, fold, navy, crema = (196, 160, 118, 255), (170, 136, 98, 255), (27, 58, 75, 255), (242, 166, 90, 255)
    d.rounded_rectangle((40, 90, w - 40, h - 20), radius=36, fill=kraft)  # the bag
    d.polygon([(40, 130), (90, 40), (w - 90, 40), (w - 40, 130)], fill=fold)  # folded top
    d.rectangle((70, 60, w - 70, 78), fill=(150, 118, 84, 255))  # seal
    for x in range(60, w - 60, 14):  # paper texture
        d.line((x, 140, x + 6, h - 40), fill=(188, 152, 110, 60), width=2)
    d.rounded_rectangle((95, 260, w - 95, 700), radius=18, fill=navy)  # label
    d.arc((170, 300, w - 170, 470), 200, 340, fill=crema, width=14)
    d.arc((200, 330, w - 200, 470), 200, 340, fill=(228, 87, 46, 255), width=10)
    title = ImageFont.truetype(str(FONTS / "DejaVuSerif-Bold.ttf"), 58)
    small = ImageFont.truetype(str(FONTS / "DejaVuSansCondensed-Bold.ttf"), 30)
    tiny = ImageFont.truetype(str(FONTS / "DejaVuSansCondensed.ttf"), 26)
    d.text((w // 2, 500), "Nordlicht", font=title, fill=(255, 255, 255, 255), anchor="mm")
    d.text((w // 2, 565), "SPRING ROAST", font=small, fill=crema, anchor="mm")
    d.text((w // 2, 630), "light · 250 g · whole bean", font=tiny, fill=(230, 230, 230, 255), anchor="mm")
    # soft edge shading so the bag reads as an object
    shade = Image.new("L", (w, h), 0)
    ImageDraw.Draw(shade).rounded_rectangle((40, 90, 100, h - 20), radius=30, fill=70)
    shade = shade.filter(ImageFilter.GaussianBlur(18))
    dark = Image.new("RGBA", (w, h), (60, 40, 20, 255))
    alpha = bag.getchannel("A")
    bag = Image.composite(dark, bag, shade.point(lambda v: v // 2))
    bag.putalpha(alpha)
    bag.save(HERE / "product.png")


if __name__ == "__main__":
    main()
