//! Fixtures for app content: small real-looking labelled texts, generated images,
//! and helpers that upload, create models and wait for training through the UI.

use std::io::Cursor;
use std::time::{Duration, Instant};

use super::{Client, Page};

/// Forty short texts in two classes, `sports` and `cooking`.
pub fn labelled_texts() -> Vec<(&'static str, &'static str)> {
    let sports = [
        "The striker scored twice in the second half of the match",
        "Our goalkeeper saved a penalty in the final minute",
        "The team won the championship after a tense overtime",
        "The coach picked a new captain for the football season",
        "Fans cheered as the runner crossed the finish line first",
        "The tennis final went to five sets at the stadium",
        "He hit a home run in the ninth inning of the game",
        "The basketball team lost the playoff game by three points",
        "The referee showed a red card to the defender",
        "She set a new world record in the marathon race",
        "The league announced the schedule for the next season",
        "The player signed a contract with the football club",
        "The match was postponed because of the storm at the stadium",
        "The cyclist won the mountain stage of the race",
        "The team trained hard before the championship game",
        "The boxer won the title fight in the tenth round",
        "The goalkeeper and the defender argued after the goal",
        "The swimmer took gold in the relay at the games",
        "The striker was injured during the match and left the pitch",
        "The coach praised the team after the win",
    ];
    let cooking = [
        "Stir the onions in butter until they turn golden",
        "Bake the bread in a hot oven for thirty minutes",
        "Add a pinch of salt and pepper to the sauce",
        "Whisk the eggs with sugar until the mixture is fluffy",
        "Simmer the soup on low heat with garlic and herbs",
        "Chop the tomatoes and basil for the pasta sauce",
        "Roast the chicken with lemon, garlic and rosemary",
        "Knead the dough and let it rise for an hour",
        "Season the steak and sear it in a hot pan",
        "Melt the chocolate with butter for the cake",
        "Boil the pasta in salted water until tender",
        "Slice the potatoes thinly and bake them with cream",
        "Grate the cheese over the soup before serving",
        "Marinate the fish in lemon juice and olive oil",
        "Fry the garlic in olive oil before adding the rice",
        "Mix flour, butter and sugar to make the pie crust",
        "Serve the salad with a dressing of oil and vinegar",
        "Cook the rice with onions and a cup of broth",
        "Beat the cream with sugar and vanilla for the dessert",
        "Bake the cake until a knife comes out clean",
    ];
    sports
        .iter()
        .map(|t| (*t, "sports"))
        .chain(cooking.iter().map(|t| (*t, "cooking")))
        .collect()
}

/// The texts as a `.csv` file with a header and a label column.
pub fn csv_of(rows: &[(&str, &str)]) -> Vec<u8> {
    let mut out = String::from("text,label\n");
    for (t, l) in rows {
        out.push_str(&format!("\"{}\",{l}\n", t.replace('"', "\"\"")));
    }
    out.into_bytes()
}

/// A 32×32 PNG: a `fg` disc (or square) on a `bg` background, with a little noise.
pub fn png(fg: [u8; 3], bg: [u8; 3], disc: bool, seed: u32) -> Vec<u8> {
    encode(
        image::RgbImage::from_fn(32, 32, |x, y| {
            let (dx, dy) = (x as i32 - 16, y as i32 - 16);
            let inside = if disc {
                dx * dx + dy * dy < 100
            } else {
                dx.abs() < 9 && dy.abs() < 9
            };
            let n = ((x * 31 + y * 17 + seed * 7) % 23) as u8;
            let c = if inside { fg } else { bg };
            image::Rgb([
                c[0].saturating_add(n),
                c[1].saturating_add(n),
                c[2].saturating_add(n),
            ])
        }),
        image::ImageFormat::Png,
    )
}

/// Encodes an RGB image in a format.
pub fn encode(img: image::RgbImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut out), format)
        .expect("encode");
    out
}

/// Uploads a file (and optional typed texts / concepts) through Upload Inputs.
pub fn upload(
    c: &Client,
    owner: &str,
    app: &str,
    texts: &str,
    concepts: &str,
    files: &[(&str, Vec<u8>)],
) -> Page {
    let files: Vec<(&str, &str, Vec<u8>)> = files
        .iter()
        .map(|(name, bytes)| ("files", *name, bytes.clone()))
        .collect();
    c.post_multipart(
        &format!("/{owner}/{app}/inputs/upload"),
        &[("texts", texts), ("concepts", concepts)],
        &files,
        false,
    )
}

/// Creates a model through Create Model and returns the response.
pub fn create_model(
    c: &Client,
    owner: &str,
    app: &str,
    id: &str,
    model_type: &str,
    concepts: &[&str],
) -> Page {
    let mut fields = vec![
        ("type", model_type),
        ("id", id),
        ("name", id),
        ("description", ""),
        ("visibility", "private"),
    ];
    for c in concepts {
        fields.push(("concepts", c));
    }
    c.post_form(&format!("/{owner}/{app}/models"), &fields)
}

/// Clicks Train Model and returns the new version's id.
pub fn train(c: &Client, model_path: &str) -> String {
    let res = c.post_form(&format!("{model_path}/train"), &[]);
    assert_eq!(res.status, 303, "train: {}", res.body);
    let versions = c.get(&format!("{model_path}/versions"));
    versions.attr("article.version", "data-version-id")
}

/// Polls the Versions tab until `version` is no longer queued or training.
pub fn wait_done(c: &Client, model_path: &str, version: &str) -> Page {
    let started = Instant::now();
    loop {
        let page = c.get(&format!("{model_path}/versions"));
        let css = format!("article.version[data-version-id=\"{version}\"]");
        let status = page.attr(&css, "data-status");
        if status != "queued" && status != "training" {
            return page;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "version {version} still {status} after 3 minutes"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The predicted concept ids, best first, of a predict-box response.
pub fn predicted(page: &Page) -> Vec<String> {
    page.attrs("[data-testid=predictions] li", "data-concept-id")
}
