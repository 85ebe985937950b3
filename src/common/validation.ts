import { ValidationPipe } from '@nestjs/common';
import { AppException } from './app-exception';

/** Body validation for every DTO: unknown fields and wrong types are a 400 in the error shape. */
export function strictValidation(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) =>
      AppException.badRequest(
        errors
          .flatMap((e) =>
            Object.values(e.constraints ?? { [e.property]: `${e.property} is invalid` }),
          )
          .join('; ') || 'invalid request body',
      ),
  });
}
