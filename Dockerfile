FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
# .dockerignore keeps .env, data/ and temp/ out: secrets and stored data never enter the image.
COPY . .
RUN useradd --create-home tts && mkdir -p /data /app/temp && chown -R tts /data /app/temp
USER tts
# A container listens on every interface, so the service refuses a placeholder or short
# SECRET_KEY here (config.py). FORWARDED_ALLOW_IPS: the proxies whose X-Forwarded-For is believed.
ENV API_HOST=0.0.0.0 API_PORT=8000
EXPOSE 8000
CMD ["python", "-m", "scripts.api"]
